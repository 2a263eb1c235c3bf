// Package jsonenc encodes the JSON that Postern shows: API answers, the
// event stream and webhooks, and both command lines' --json output. It is
// encoding/json with <, > and & left as they are (Go escapes them to
// \u003c, \u003e and \u0026 by default, for JSON pasted into HTML, which
// none of this is), so that a reason such as "a <b> & c" reads the same to
// jq, a gateway's log and a person. archtest keeps those surfaces on it.
//
// The package is portable.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"io"
)

// Marshal is json.Marshal without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// NewEncoder is json.NewEncoder without HTML escaping.
func NewEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
