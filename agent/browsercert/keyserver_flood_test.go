//go:build linux

package browsercert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// A user who opens connections and stays silent holds at most
// maxConnsPerUser of the agent's: the next is closed unread, and a
// connection closed gives its place back.
func TestKeyServerBoundsSilentConnections(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := testIdentity(t, key, 7)
	id.Key = hardware{key}
	sock := startKeyServer(t, id, func(uid int) bool { return uid == os.Getuid() })
	silent := make([]net.Conn, 0, maxConnsPerUser)
	for range maxConnsPerUser {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	// Once the server holds them all, one more is closed without an
	// answer: its read ends (EOF or reset), it does not wait for the
	// server's 10 s timeout.
	// The server accepts in order, so this one comes after the silent
	// ones; a read deadline under the server's own timeout tells
	// "closed at once" from "served, then timed out".
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(connTimeout / 2)) // wall clock: a network deadline
	_, err = io.ReadFull(c, make([]byte, 1))
	c.Close()
	if errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
		t.Fatalf("a connection over the user's share was held open: %v", err)
	}
	silent[0].Close()
	// The place comes back once the server sees the close; a request
	// then gets its answer.
	for i := 0; ; i++ {
		if status, body, ok := tryAsk(sock, opSign, bytes.Repeat([]byte{1}, 32)); ok {
			if status != answerOK || len(body) != 64 {
				t.Fatalf("status %d, %d bytes", status, len(body))
			}
			break
		}
		if i == 1000 {
			t.Fatal("no request was answered after a silent connection closed")
		}
	}
}

// tryAsk is ask that reports a connection closed unanswered instead of
// failing the test.
func tryAsk(sock string, op byte, payload []byte) (byte, []byte, bool) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		return 0, nil, false
	}
	defer c.Close()
	msg := append([]byte{op, 0, 0, 0, byte(len(payload))}, payload...)
	if _, err := c.Write(msg); err != nil {
		return 0, nil, false
	}
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return 0, nil, false
	}
	body := make([]byte, int(hdr[4])|int(hdr[3])<<8)
	if _, err := io.ReadFull(c, body); err != nil {
		return 0, nil, false
	}
	return hdr[0], body, true
}

func TestPerUserConnectionShares(t *testing.T) {
	var p perUser
	for range maxConnsPerUser {
		if !p.take(1000) {
			t.Fatal("a user was refused within its share")
		}
	}
	if p.take(1000) {
		t.Error("a user got more than its share")
	}
	if !p.take(1001) {
		t.Error("another user was kept out by the first one's connections")
	}
	p.release(1000)
	if !p.take(1000) {
		t.Error("a released connection's place did not come back")
	}
}
