package browsercert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// KeySocket is where the agent serves a hardware device key to the
// PKCS#11 module in the user's browsers (PKCS11Module).
const KeySocket = "/run/postern/key.sock"

// PKCS11Module is where the Linux package installs the PKCS#11 module
// (agent/browsercert/pkcs11module) that browsers load to present a
// certificate whose key is in the TPM.
const PKCS11Module = "/usr/lib/postern/libpostern-pkcs11.so"

// Operations of the key socket's protocol, as pkcs11module/postern-pkcs11.c
// speaks it: one byte, a big-endian uint32 length and that many bytes,
// both ways; an answer's first byte is answerOK or answerRefused.
const (
	opCertificate = 'C'
	opSign        = 'S'
	answerOK      = 0
	answerRefused = 1
	// maxRequest bounds a request's payload: the largest digest.
	maxRequest = 64
	// connTimeout bounds one exchange, so a client that stops talking
	// does not hold a goroutine.
	connTimeout = 10 * time.Second
	// maxConnsPerUser bounds the connections one uid has open at once:
	// well above a browser's handshakes in flight (each connection is one
	// signature, answered in milliseconds); without it a user who opens
	// thousands and stays silent holds as many goroutines and file
	// descriptors of the agent (which then cannot report). Counted per
	// uid, so no user's connections keep another's out.
	maxConnsPerUser = 64
)

// KeyServer lets the PKCS#11 module in a user's browser use the device
// key that only the agent can reach (the TPM is root's): it answers the
// device certificate and ECDSA signatures of digests, to the users Allow
// admits, identified by the kernel (SO_PEERCRED), never by what they
// send. The key never leaves the TPM; what a user gets is the use of it,
// as a smart card gives it, while the agent runs.
type KeyServer struct {
	// Path is the socket; KeySocket in production.
	Path string
	// Key signs; a TPM key.
	Key crypto.Signer
	// Cert returns the current device certificate (read per request, so
	// a renewal is served at once).
	Cert func() (*x509.Certificate, error)
	// Allow says whether the user with this uid may use the key: the
	// users the certificate was placed for.
	Allow  func(uid int) bool
	Logger *slog.Logger
}

// Serve listens on Path until ctx ends. The socket is open to everyone
// (0666): who may use the key is decided per connection from the peer's
// uid.
func (s *KeyServer) Serve(ctx context.Context) error {
	if s.Key == nil || s.Cert == nil || s.Allow == nil {
		return errors.New("key server: key, certificate or allow missing")
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
		return fmt.Errorf("key server: %w", err)
	}
	// The service's umask (0077) would leave the folder root's alone;
	// users' browsers must reach the socket in it.
	if err := os.Chmod(filepath.Dir(s.Path), 0o755); err != nil {
		return fmt.Errorf("key server: %w", err)
	}
	if err := os.Remove(s.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("key server: remove the old socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.Path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("key server: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(s.Path, 0o666); err != nil {
		ln.Close()
		return fmt.Errorf("key server: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var conns perUser
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("key server: %w", err)
		}
		// The kernel's record of the peer is read at once: a connection
		// over its uid's share is closed before anything is read.
		uid, err := peerUID(c)
		if err != nil || !conns.take(uid) {
			s.log().Warn("device key connection closed: unknown peer or too many open", "uid", uid, "limit", maxConnsPerUser, "error", errString(err))
			c.Close()
			continue
		}
		wg.Go(func() {
			defer conns.release(uid)
			defer c.Close()
			s.serve(c, uid)
		})
	}
}

// perUser counts open connections by uid.
type perUser struct {
	mu sync.Mutex
	n  map[int]int
}

func (p *perUser) take(uid int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[uid] >= maxConnsPerUser {
		return false
	}
	if p.n == nil {
		p.n = make(map[int]int)
	}
	p.n[uid]++
	return true
}

func (p *perUser) release(uid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[uid]--; p.n[uid] <= 0 {
		delete(p.n, uid)
	}
}

func (s *KeyServer) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// serve answers one request from uid.
func (s *KeyServer) serve(c *net.UnixConn, uid int) {
	_ = c.SetDeadline(time.Now().Add(connTimeout)) // wall clock: a network deadline
	// The request is read before the caller is judged: a refusal then
	// reaches a client that is still writing, instead of a broken pipe.
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxRequest {
		writeAnswer(c, answerRefused, []byte("request too large"))
		return
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c, payload); err != nil {
		return
	}
	if !s.Allow(uid) {
		s.log().Warn("device key refused to a user it was not placed for", "uid", uid)
		writeAnswer(c, answerRefused, []byte("refused"))
		return
	}
	var out []byte
	var err error
	switch hdr[0] {
	case opCertificate:
		out, err = s.certificate()
	case opSign:
		out, err = s.sign(payload)
	default:
		err = fmt.Errorf("unknown operation %q", hdr[0])
	}
	if err != nil {
		s.log().Warn("device key request failed", "uid", uid, "error", err.Error())
		writeAnswer(c, answerRefused, []byte(err.Error()))
		return
	}
	writeAnswer(c, answerOK, out)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeAnswer(w io.Writer, status byte, b []byte) {
	msg := make([]byte, 5, 5+len(b))
	msg[0] = status
	binary.BigEndian.PutUint32(msg[1:], uint32(len(b)))
	_, _ = w.Write(append(msg, b...))
}

// oidP256 names the curve in CKA_EC_PARAMS.
var oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}

// certificate returns the PKCS#11 objects' attributes, as
// length-prefixed fields: certificate, subject, issuer, serial number,
// CKA_ID, label, EC parameters, EC point.
func (s *KeyServer) certificate() ([]byte, error) {
	cert, err := s.Cert()
	if err != nil {
		return nil, err
	}
	fields, err := Attributes(cert, s.Key.Public())
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out, nil
}

// Attributes returns the fields of the certificate answer for cert and
// its key pub (a P-256 key): what the module serves as CKA_VALUE,
// CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_ID (SHA-1 of the
// public point, as NSS names keys), CKA_LABEL (the device ID),
// CKA_EC_PARAMS and CKA_EC_POINT.
func Attributes(cert *x509.Certificate, pub crypto.PublicKey) ([][]byte, error) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("device key: %T, want a P-256 key", pub)
	}
	if !ec.Equal(cert.PublicKey) {
		return nil, errors.New("device certificate is not for the device key")
	}
	ek, err := ec.ECDH()
	if err != nil {
		return nil, err
	}
	point := ek.Bytes()
	id := sha1.Sum(point)
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(oidP256)
	if err != nil {
		return nil, err
	}
	octets, err := asn1.Marshal(point)
	if err != nil {
		return nil, err
	}
	return [][]byte{cert.Raw, cert.RawSubject, cert.RawIssuer, serial, id[:], []byte(cert.Subject.CommonName), params, octets}, nil
}

// sign signs a digest with the device key and returns r||s, 32 bytes
// each, as PKCS#11's CKM_ECDSA returns it.
func (s *KeyServer) sign(digest []byte) ([]byte, error) {
	var h crypto.Hash
	switch len(digest) {
	case 32:
		h = crypto.SHA256
	case 48:
		h = crypto.SHA384
	case 64:
		h = crypto.SHA512
	default:
		return nil, fmt.Errorf("digest of %d bytes", len(digest))
	}
	der, err := s.Key.Sign(nil, digest, h)
	if err != nil {
		return nil, err
	}
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("decode the key's signature: %v", err)
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}
