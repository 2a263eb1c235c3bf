package devkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"
)

func eccBlob(pub *ecdsa.PublicKey) []byte {
	b := make([]byte, 72)
	binary.LittleEndian.PutUint32(b[0:4], eccPublicP256Magic)
	binary.LittleEndian.PutUint32(b[4:8], 32)
	pub.X.FillBytes(b[8:40])
	pub.Y.FillBytes(b[40:72])
	return b
}

func TestTheCNGPublicBlobIsParsedOnlyForP256(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := eccBlob(&k.PublicKey)
	pub, err := parseECCPublicBlob(good)
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("got %v, %v", pub, err)
	}
	bad := func(edit func([]byte) []byte) []byte { return edit(append([]byte{}, good...)) }
	tests := []struct {
		name string
		blob []byte
		want string
	}{
		{"a truncated blob", good[:40], "72"},
		{"a P-384 magic", bad(func(b []byte) []byte { binary.LittleEndian.PutUint32(b, 0x33534345); return b }), "magic"},
		{"a wrong key size", bad(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 48); return b }), "key size"},
		{"a point off the curve", bad(func(b []byte) []byte { b[71] ^= 1; return b }), "not on P-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if _, err := parseECCPublicBlob(tt.blob); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestACNGSignatureBecomesOneECDSAVerifies(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("tls 1.3 certificate verify"))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	der, err := p1363ToASN1(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(&k.PublicKey, digest[:], der) {
		t.Fatal("converted signature does not verify")
	}
	if _, err := p1363ToASN1(raw[:63]); err == nil {
		t.Fatal("a short signature was converted")
	}
	if _, err := p1363ToASN1(make([]byte, 64)); err == nil {
		t.Fatal("a zero signature was converted")
	}
}

func TestCNGKeyReferences(t *testing.T) {
	name := "Postern-device-" + strings.Repeat("ab", 16)
	b, err := encodeCNGRef(name)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := decodeCNGRef(b); err != nil || r.Name != name {
		t.Fatalf("round trip: %+v %v", r, err)
	}
	for _, tt := range []struct{ name, ref string }{
		{"another provider", `{"store":"cng","provider":"Microsoft Software Key Storage Provider","name":"` + name + `"}`},
		{"another program's key name", `{"store":"cng","provider":"Microsoft Platform Crypto Provider","name":"VPN-client-key"}`},
		{"a TPM blob", `{"Encoding":1,"TPMVersion":2,"Public":"AAE="}`},
		{"not JSON", `garbage`},
	} {
		t.Run("a reference to "+tt.name+" is refused", func(t *testing.T) {
			if _, err := decodeCNGRef([]byte(tt.ref)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
