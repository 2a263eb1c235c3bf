package dashboard

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/users"
)

// softKey is a software authenticator: an ECDSA P-256 credential with
// "none" attestation, answering as a browser would for origin.
type softKey struct {
	t      *testing.T
	priv   *ecdsa.PrivateKey
	id     []byte
	count  uint32
	origin string
}

func newSoftKey(t *testing.T, origin string) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &softKey{t: t, priv: priv, id: id, origin: origin}
}

var b64 = base64.RawURLEncoding

type ceremonyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(rpID string, flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, attested...)
}

// create answers a registration's options.
func (k *softKey) create(opts []byte) string {
	k.t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal(opts, &o); err != nil {
		k.t.Fatalf("registration options %s: %v", opts, err)
	}
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, XCoord: k.priv.X.FillBytes(make([]byte, 32)), YCoord: k.priv.Y.FillBytes(make([]byte, 32))})
	if err != nil {
		k.t.Fatal(err)
	}
	att := make([]byte, 16) // AAGUID: none
	att = binary.BigEndian.AppendUint16(att, uint16(len(k.id)))
	att = append(append(att, k.id...), cose...)
	k.count++
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(o.PublicKey.RP.ID, 0x41, att)})
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]string{"clientDataJSON": b64.EncodeToString(k.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(obj)}})
	return string(b)
}

// get answers a sign-in's options, signing with signer (k's own key
// unless another is given).
func (k *softKey) get(opts []byte, signer *ecdsa.PrivateKey) string {
	k.t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal(opts, &o); err != nil {
		k.t.Fatalf("sign-in options %s: %v", opts, err)
	}
	if signer == nil {
		signer = k.priv
	}
	k.count++
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	ad := k.authData(o.PublicKey.RPID, 0x01, nil)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, signer, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]string{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig)}})
	return string(b)
}

// hostTransport sends every request with Host host, as a browser that
// reached the dashboard by that name would.
type hostTransport struct {
	base http.RoundTripper
	host string
}

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.base.RoundTrip(r)
}

func (c *client) via(host string) *client {
	c.http.Transport = hostTransport{base: c.http.Transport, host: host}
	return c
}

const dashHost = "dash.example.org"

// registerKey registers k for the signed-in client.
func registerKey(t *testing.T, c *client, k *softKey) resp {
	t.Helper()
	csrf := c.csrf("/ui/account")
	opts := c.post("/ui/account/keys/options", url.Values{"csrf": {csrf}})
	if opts.status != http.StatusOK {
		t.Fatalf("registration options: %d %s", opts.status, opts.body)
	}
	answer := k.create([]byte(opts.body))
	if r := c.post("/ui/account/keys", url.Values{"csrf": {csrf}, "name": {"desk key"}, "credential": {answer}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("register a key without the password: %d, want 422", r.status)
	}
	return c.post("/ui/account/keys", url.Values{"csrf": {csrf}, "name": {"desk key"}, "credential": {answer}, "password": {ownPassword}})
}

// keySignIn runs the password step and fetches the security-key options.
func keySignIn(t *testing.T, e *env, name string) (*client, []byte) {
	t.Helper()
	c := e.client().via(dashHost)
	if r := c.password(name); r.location != "/ui/login/verify" {
		t.Fatalf("password step: %d %s", r.status, r.location)
	}
	opts := c.post("/ui/login/webauthn/options", url.Values{})
	if opts.status != http.StatusOK {
		t.Fatalf("sign-in options: %d %s", opts.status, opts.body)
	}
	return c, []byte(opts.body)
}

func TestSecurityKey(t *testing.T) {
	e := newMFAEnv(t, dashHost)
	e.addUser("ana", users.RoleAnalyst)
	key := newSoftKey(t, "https://"+dashHost)
	owner := e.signIn("ana").via(dashHost)
	r := registerKey(t, owner, key)
	if r.status != http.StatusOK || len(codesRE.FindAllString(r.body, -1)) != users.RecoveryCodeCount {
		t.Fatalf("register the first key: %d (want the recovery codes page)", r.status)
	}
	if !auditHas(t, e.st, audit.KindMFAEnrolled, "ana") {
		t.Error("no audit row for the key")
	}

	t.Run("the key signs in", func(t *testing.T) {
		c, opts := keySignIn(t, e, "ana")
		r := c.post("/ui/login/webauthn", url.Values{"credential": {key.get(opts, nil)}})
		if r.status != http.StatusSeeOther || r.location != "/ui/" || !hasSessionCookie(r) {
			t.Fatalf("key sign-in: %d %s", r.status, r.location)
		}
	})
	refused := []struct {
		name   string
		answer func(opts []byte) string
	}{
		{"a replayed answer", func([]byte) string {
			_, old := keySignIn(t, e, "ana")
			return key.get(old, nil)
		}},
		{"an answer made for another site (phishing relay)", func(opts []byte) string {
			phished := *key
			phished.origin = "https://dash.example.org.evil.test"
			ans := phished.get(opts, nil)
			key.count = phished.count
			return ans
		}},
		{"an answer signed by another key", func(opts []byte) string {
			other := newSoftKey(t, key.origin)
			return key.get(opts, other.priv)
		}},
		{"a signature counter that went back (a cloned key)", func(opts []byte) string {
			clone := *key
			clone.count = 0
			return clone.get(opts, nil)
		}},
		{"no answer", func([]byte) string { return "" }},
	}
	for _, tc := range refused {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			c, opts := keySignIn(t, e, "ana")
			r := c.post("/ui/login/webauthn", url.Values{"credential": {tc.answer(opts)}})
			if r.status != http.StatusUnauthorized || hasSessionCookie(r) {
				t.Errorf("%d %s, want 401 without a session", r.status, r.location)
			}
			// A refusal counts like a wrong password; clear the count
			// for the next case.
			e.st.Unlock(t.Context(), "ana")
		})
	}
	t.Run("an answer is accepted once per challenge", func(t *testing.T) {
		c, opts := keySignIn(t, e, "ana")
		ans := key.get(opts, nil)
		if r := c.post("/ui/login/webauthn", url.Values{"credential": {ans}}); r.status != http.StatusSeeOther {
			t.Fatalf("first answer: %d", r.status)
		}
		c2 := e.client().via(dashHost)
		c2.password("ana")
		if r := c2.post("/ui/login/webauthn", url.Values{"credential": {ans}}); r.status != http.StatusUnauthorized {
			t.Errorf("the answer in another sign-in: %d, want 401", r.status)
		}
	})
	t.Run("a host that is not configured gets no options", func(t *testing.T) {
		c := e.client().via("other.example.org")
		c.password("ana")
		if r := c.post("/ui/login/webauthn/options", url.Values{}); r.status != http.StatusConflict {
			t.Errorf("options on another host: %d, want 409", r.status)
		}
	})
	t.Run("the same key cannot be registered twice", func(t *testing.T) {
		c := e.client().via(dashHost)
		c.password("ana")
		opts := c.post("/ui/login/webauthn/options", url.Values{})
		r := c.post("/ui/login/webauthn", url.Values{"credential": {key.get([]byte(opts.body), nil)}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("sign in: %d", r.status)
		}
		dup := *key
		if r := registerKey(t, c, &dup); r.status == http.StatusOK || r.status == http.StatusSeeOther {
			t.Errorf("registering the same key again: %d", r.status)
		}
	})
	if !auditHas(t, e.st, audit.KindMFARefused, "ana") {
		t.Error("no audit row for the refused answers")
	}
	if !strings.Contains(owner.get("/ui/account").body, "desk key") {
		t.Error("the account page does not list the key")
	}
}

func TestSecurityKeyAsRequiredEnrolment(t *testing.T) {
	e := newMFAEnv(t, dashHost)
	e.addUser("root", users.RoleAdmin)
	if err := e.users.SetMFARequired(t.Context(), "user:root", true); err != nil {
		t.Fatal(err)
	}
	c := e.client().via(dashHost)
	if r := c.password("root"); r.location != "/ui/login/enrol" {
		t.Fatalf("password step: %d %s, want enrolment", r.status, r.location)
	}
	key := newSoftKey(t, "https://"+dashHost)
	opts := c.post("/ui/login/enrol/keys/options", url.Values{})
	if opts.status != http.StatusOK {
		t.Fatalf("options: %d %s", opts.status, opts.body)
	}
	if r := c.post("/ui/login/enrol/keys", url.Values{"credential": {""}}); r.status != http.StatusUnprocessableEntity || hasSessionCookie(r) {
		t.Errorf("no answer: %d, session %v", r.status, hasSessionCookie(r))
	}
	opts = c.post("/ui/login/enrol/keys/options", url.Values{})
	r := c.post("/ui/login/enrol/keys", url.Values{"name": {"yubikey"}, "credential": {key.create([]byte(opts.body))}})
	if r.status != http.StatusOK || !hasSessionCookie(r) || len(codesRE.FindAllString(r.body, -1)) != users.RecoveryCodeCount {
		t.Fatalf("enrol with a key: %d, session %v", r.status, hasSessionCookie(r))
	}
	if r := c.get("/ui/devices"); r.status != http.StatusOK {
		t.Errorf("a page after enrolling: %d", r.status)
	}
	next, sopts := keySignIn(t, e, "root")
	if r := next.post("/ui/login/webauthn", url.Values{"credential": {key.get(sopts, nil)}}); r.status != http.StatusSeeOther || r.location != "/ui/" {
		t.Errorf("the next sign-in with the key: %d %s", r.status, r.location)
	}
}
