package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/quic-go/quic-go"

	"github.com/postern-dev/postern/checks"
	pb "github.com/postern-dev/postern/proto"
)

func newCSR(t *testing.T) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// enrollHandler answers like the server: it reads Hello and the request,
// then replies with respond's envelope.
func enrollHandler(t *testing.T, got chan<- *pb.EnrollRequest, respond func(req *pb.EnrollRequest) *pb.Envelope) func(*quic.Stream) {
	return func(str *quic.Stream) {
		if env, err := pb.ReadMsg(str); err != nil || env.GetHello() == nil {
			t.Errorf("responder: first message %v, %v", env, err)
			return
		}
		env, err := pb.ReadMsg(str)
		if err != nil || env.GetEnroll() == nil {
			t.Errorf("responder: request %v, %v", env, err)
			return
		}
		got <- env.GetEnroll()
		send(t, str, hello())
		send(t, str, respond(env.GetEnroll()))
	}
}

func TestEnroll(t *testing.T) {
	pki := newPKI(t)
	other := newPKI(t)
	dev := checks.Device{Hostname: "laptop-7", OS: "linux", OSName: "Debian GNU/Linux", OSVersion: "13", Arch: "amd64"}
	issue := func(ca *testPKI, cn string) func(req *pb.EnrollRequest) *pb.Envelope {
		return func(req *pb.EnrollRequest) *pb.Envelope {
			csr, err := x509.ParseCertificateRequest(req.GetCsrDer())
			if err != nil {
				return errEnv("bad_request", 0)
			}
			return &pb.Envelope{Msg: &pb.Envelope_Enrolled{Enrolled: &pb.EnrollResponse{
				DeviceId: "dev-1", CertificateDer: ca.issue(t, csr.PublicKey, cn, x509.ExtKeyUsageClientAuth), CaDer: ca.ca.Raw,
			}}}
		}
	}
	tests := []struct {
		name       string
		serverCert func() *testPKI // whose CA the server's chain comes from
		withCA     bool
		respond    func(req *pb.EnrollRequest) *pb.Envelope
		wantErr    error
		wantCode   string
		tokenSent  bool
	}{
		{name: "a server whose CA matches the pin enrolls the device", serverCert: func() *testPKI { return pki }, withCA: true, respond: issue(pki, "dev-1"), tokenSent: true},
		{name: "a server with another CA is refused before the token is sent", serverCert: func() *testPKI { return other }, withCA: true, respond: issue(other, "dev-1"), wantErr: ErrPinMismatch},
		{name: "a server that does not present its CA is refused", serverCert: func() *testPKI { return pki }, withCA: false, respond: issue(pki, "dev-1"), wantErr: ErrPinMismatch},
		{name: "a server error comes back with its code", serverCert: func() *testPKI { return pki }, withCA: true, respond: func(*pb.EnrollRequest) *pb.Envelope { return errEnv(CodeTokenUsed, 0) }, wantCode: CodeTokenUsed, tokenSent: true},
		{name: "a response whose CA differs from the pin is refused", serverCert: func() *testPKI { return pki }, withCA: true, respond: func(req *pb.EnrollRequest) *pb.Envelope {
			env := issue(other, "dev-1")(req)
			return env
		}, wantErr: ErrPinMismatch, tokenSent: true},
		{name: "a certificate naming another device is refused", serverCert: func() *testPKI { return pki }, withCA: true, respond: issue(pki, "dev-2"), wantErr: ErrProtocol, tokenSent: true},
		{name: "a certificate for another key is refused", serverCert: func() *testPKI { return pki }, withCA: true, respond: func(*pb.EnrollRequest) *pb.Envelope {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return &pb.Envelope{Msg: &pb.Envelope_Enrolled{Enrolled: &pb.EnrollResponse{DeviceId: "dev-1", CertificateDer: pki.issue(t, &k.PublicKey, "dev-1", x509.ExtKeyUsageClientAuth), CaDer: pki.ca.Raw}}}
		}, wantErr: ErrProtocol, tokenSent: true},
		{name: "a gateway URL that is not an https origin is refused", serverCert: func() *testPKI { return pki }, withCA: true, respond: func(req *pb.EnrollRequest) *pb.Envelope {
			env := issue(pki, "dev-1")(req)
			env.GetEnrolled().GatewayUrl = `https://ehr.example/"},{"pattern":"*"`
			return env
		}, wantErr: ErrProtocol, tokenSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan *pb.EnrollRequest, 1)
			srv := tt.serverCert()
			r := startResponder(t, srv.serverCert(t, tt.withCA), srv.ca, enrollHandler(t, got, tt.respond))
			csr, _ := newCSR(t)
			res, err := Enroll(testCtx(t), r.addr, pki.token(), csr, dev)
			switch {
			case tt.wantCode != "":
				var se *ServerError
				if !errors.As(err, &se) || se.Code != tt.wantCode {
					t.Fatalf("err = %v, want server error %s", err, tt.wantCode)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if res.DeviceID != "dev-1" || !pki.ca.Equal(mustParse(t, res.CADER)) {
					t.Errorf("got %+v", res)
				}
			}
			select {
			case req := <-got:
				if !tt.tokenSent {
					t.Fatal("the token reached a server that failed the pin")
				}
				if req.GetToken() != pki.token() || req.GetDevice().GetHostname() != "laptop-7" || req.GetDevice().GetOsName() != "Debian GNU/Linux" {
					t.Errorf("request = %v", req)
				}
			default:
				if tt.tokenSent {
					t.Error("the server never received the request")
				}
			}
			if !tt.tokenSent && r.streamCount() != 0 {
				t.Error("a stream was opened to a server that failed the pin")
			}
		})
	}
	t.Run("a malformed token is refused without connecting", func(t *testing.T) {
		csr, _ := newCSR(t)
		if _, err := Enroll(testCtx(t), "127.0.0.1:1", "pt1.nope", csr, dev); !errors.Is(err, pb.ErrMalformedToken) {
			t.Fatalf("err = %v", err)
		}
	})
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
