package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func newRequest(method, target string, hdr map[string]string, remote string) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func hmacHex(t *testing.T, key, msg string) string {
	t.Helper()
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestAnswersKeepAngleBracketsAndAmpersands(t *testing.T) {
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusForbidden, map[string]string{"reason": "screen_lock: <never> & no password"})
	if got, want := rec.Body.String(), `{"reason":"screen_lock: <never> & no password"}`+"\n"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %s for %d bytes", got, rec.Body.Len())
	}
}
