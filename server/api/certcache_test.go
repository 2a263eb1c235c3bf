package api

import (
	"encoding/base64"
	"net/http"
	"testing"
)

func TestCertCache(t *testing.T) {
	f := newFixtureWith(t, "", nil)
	der := mustDER(t, f.certPEM)
	caddy := base64.StdEncoding.EncodeToString(der)
	want, ok := forwardedCertSHA(http.Header{"X-Client-Cert": {caddy}})
	if !ok {
		t.Fatal("the fixture's certificate does not decode")
	}
	var c certCache
	ask := func(name, v string) (string, bool) {
		return c.forwardedCertSHA(http.Header{name: {v}})
	}
	t.Run("a repeated header gets the same answer from the cache", func(t *testing.T) {
		for range 2 {
			if got, ok := ask("X-Client-Cert", caddy); !ok || got != want {
				t.Fatalf("got %q %v, want %q", got, ok, want)
			}
		}
		if len(c.m) != 1 {
			t.Errorf("%d entries, want 1", len(c.m))
		}
	})
	t.Run("a bad header is remembered as bad and does not shadow a good one", func(t *testing.T) {
		for range 2 {
			if _, ok := ask("X-Client-Cert", caddy[:40]); ok {
				t.Fatal("a truncated certificate was accepted")
			}
		}
		if got, ok := ask("X-Client-Cert", caddy); !ok || got != want {
			t.Errorf("got %q %v after the bad one, want %q", got, ok, want)
		}
	})
	t.Run("the same value under Envoy's header is decoded as Envoy's", func(t *testing.T) {
		if _, ok := ask("X-Forwarded-Client-Cert", caddy); ok {
			t.Error("a bare base64 value was taken for an XFCC element")
		}
	})
	t.Run("the cache stays bounded", func(t *testing.T) {
		for i := range maxCachedCerts + 10 {
			ask("X-Client-Cert", caddy[:40]+string(rune('a'+i%26))+string(rune(i)))
		}
		if len(c.m) > maxCachedCerts {
			t.Errorf("%d entries, above the bound %d", len(c.m), maxCachedCerts)
		}
	})
}
