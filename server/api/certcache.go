package api

import (
	"crypto/sha256"
	"net/http"
	"sync"
)

// maxCachedCerts bounds the forwarded-certificate cache. Past it the cache
// starts afresh, which only happens past the number of certificates in
// use (each device holds one, two around a renewal).
const maxCachedCerts = 1 << 16

// certCache maps a forwarded certificate header to the certificate's
// SHA-256, so that a gateway asking about the same device for every
// request pays for decoding and parsing the certificate once. It is keyed
// by the SHA-256 of the header's name and value, not by the value itself:
// a key cannot collide with another certificate's, and the cache holds
// 32 bytes per entry instead of the ~1.5 KB header. Headers that hold no
// usable certificate are remembered too, so repeating one costs no
// parse either; the cache is bounded, and only trusted proxies reach it.
type certCache struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]certAnswer
}

type certAnswer struct {
	sha string
	ok  bool
}

// forwardedCertSHA is forwardedCertSHA through the cache.
func (c *certCache) forwardedCertSHA(h http.Header) (string, bool) {
	name, v := headerClientCert, h.Get(headerClientCert)
	if v == "" {
		name, v = headerXFCC, h.Get(headerXFCC)
	}
	if v == "" || len(v) > maxCertHeaderLen {
		return "", false
	}
	d := sha256.New()
	d.Write([]byte(name))
	d.Write([]byte{0})
	d.Write([]byte(v))
	var k [sha256.Size]byte
	d.Sum(k[:0])
	c.mu.RLock()
	a, hit := c.m[k]
	c.mu.RUnlock()
	if hit {
		return a.sha, a.ok
	}
	a.sha, a.ok = forwardedCertSHA(h)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedCerts {
		c.m = make(map[[sha256.Size]byte]certAnswer)
	}
	c.m[k] = a
	c.mu.Unlock()
	return a.sha, a.ok
}
