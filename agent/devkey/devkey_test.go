package devkey

import (
	"bytes"
	"crypto/x509"
	"net"
	"path/filepath"
	"testing"
)

func TestASoftwareKeyRoundTripsThroughItsPEMFile(t *testing.T) {
	k, err := NewSoftwareKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeSoftware(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSoftware(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PublicKey.Equal(&k.PublicKey) || got.Kind() != Software {
		t.Fatal("decoded key differs")
	}
	csr, err := CSR(got)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(csr)
	if err != nil || req.CheckSignature() != nil {
		t.Fatalf("CSR does not verify: %v", err)
	}
	if _, err := DecodeSoftware([]byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")); err == nil {
		t.Fatal("a certificate was taken for a key")
	}
}

func TestATPMNamedExplicitlyThatIsNotThereIsAnError(t *testing.T) {
	if _, err := OpenStore(filepath.Join(t.TempDir(), "no-such-tpm")); err == nil {
		t.Fatal("a TPM path that is not there opened")
	}
}

func TestFramedReadsOneWholeResponseWhateverTheSocketSplits(t *testing.T) {
	tests := []struct {
		name    string
		chunks  [][]byte
		want    []byte
		wantErr bool
	}{
		{"a response split after two bytes is read whole", [][]byte{{0x80, 0x01}, {0, 0, 0, 12, 0, 0, 0, 0, 0xaa, 0xbb}},
			[]byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0xaa, 0xbb}, false},
		{"a size smaller than the header is refused", [][]byte{{0x80, 0x01, 0, 0, 0, 4, 0, 0, 0, 0}}, nil, true},
		{"a size past 4096 bytes is refused", [][]byte{{0x80, 0x01, 0, 1, 0, 0, 0, 0, 0, 0}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			go func() {
				for _, c := range tt.chunks {
					_, _ = b.Write(c)
				}
				_ = b.Close()
			}()
			f := &framed{conn: a}
			buf := make([]byte, maxResponse)
			n, err := f.Read(buf)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("read %x, want an error", buf[:n])
				}
				return
			}
			if err != nil || !bytes.Equal(buf[:n], tt.want) {
				t.Fatalf("got %x, %v; want %x", buf[:n], err, tt.want)
			}
		})
	}
}
