package host

import (
	"context"
	"errors"
)

// Error kinds as written in a snapshot's manifest. Each names one sentinel
// error; KindOther keeps an error that matched none of them.
const (
	KindNotFound     = "not_found"
	KindPermission   = "permission"
	KindTimeout      = "timeout"
	KindNotSupported = "not_supported"
	KindTooLarge     = "too_large"
	KindOther        = "other"
)

var kindSentinels = []struct {
	kind string
	err  error
}{
	{KindNotFound, ErrNotFound},
	{KindPermission, ErrPermission},
	{KindTimeout, ErrTimeout},
	{KindNotSupported, ErrNotSupported},
	{KindTooLarge, ErrTooLarge},
}

// ErrorKind classifies err to one of the Kind constants; nil is "".
// A context deadline counts as a timeout.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	for _, ks := range kindSentinels {
		if errors.Is(err, ks.err) {
			return ks.kind
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindOther
}

func kindValid(kind string) bool {
	if kind == KindOther {
		return true
	}
	for _, ks := range kindSentinels {
		if ks.kind == kind {
			return true
		}
	}
	return false
}

// Wrap returns an error whose text is err's and which also matches
// sentinel with errors.Is, so callers keep the precise message (for
// example "open /etc/shadow: permission denied") and can still classify it.
func Wrap(sentinel, err error) error {
	if err == nil {
		return sentinel
	}
	return &kindError{sentinel: sentinel, msg: err.Error(), cause: err}
}

// kindError is an error with a fixed message that matches a sentinel; it is
// also how a replayed snapshot hands back a recorded error.
type kindError struct {
	sentinel error
	msg      string
	cause    error
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.sentinel, e.cause}
	}
	return []error{e.sentinel}
}

// recordedError is the manifest form of an error.
type recordedError struct {
	Kind    string `json:"kind"`
	Message string `json:"message,omitempty"`
}

func recordError(err error) *recordedError {
	if err == nil {
		return nil
	}
	return &recordedError{Kind: ErrorKind(err), Message: err.Error()}
}

// toError turns a recorded error back into one that matches its sentinel.
func (r *recordedError) toError() error {
	if r == nil {
		return nil
	}
	msg := r.Message
	if msg == "" {
		msg = r.Kind
	}
	for _, ks := range kindSentinels {
		if ks.kind == r.Kind {
			return &kindError{sentinel: ks.err, msg: msg}
		}
	}
	return errors.New(msg)
}
