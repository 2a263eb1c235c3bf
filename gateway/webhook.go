package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// HeaderSignature is the header of a webhook's signature.
const HeaderSignature = "X-Postern-Signature"

// Webhook verification errors.
var (
	ErrBadSignature = errors.New("webhook signature invalid")
	ErrStale        = errors.New("webhook timestamp outside the tolerance")
)

// VerifyWebhook checks a webhook delivery: header is the
// X-Postern-Signature value ("t=<unix>,v1=<hex>"), body the raw request
// body, and the timestamp must lie within tolerance of now, so that a
// captured delivery cannot be replayed later. Decode body (an Event) only
// after it returns nil.
func VerifyWebhook(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
