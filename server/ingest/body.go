package ingest

import (
	"encoding/json"
	"fmt"

	"github.com/postern-dev/postern/checks"
)

// encodeBody returns the JSON of a report that checks.FromWire accepted,
// as stored in the report's Body: what json.Marshal would produce, except
// that each control's facts are copied as the agent sent them. json.Marshal
// re-validates and compacts every json.RawMessage, the largest part of a
// report, which FromWire has already validated; that was a quarter of the
// ingest handler's own CPU time. Control IDs are known identifiers (plain
// ASCII) and need no escaping; every other string goes through
// encoding/json.
func encodeBody(r *checks.Report) ([]byte, error) {
	dev, err := json.Marshal(r.Device)
	if err != nil {
		return nil, fmt.Errorf("encode device: %w", err)
	}
	at, err := r.CollectedAt.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode collected_at: %w", err)
	}
	size := len(dev) + len(at) + 64
	for _, o := range r.Observations {
		size += len(o.ID) + len(o.Facts) + len(o.UnknownReason) + 48
	}
	b := make([]byte, 0, size)
	b = append(b, `{"device":`...)
	b = append(b, dev...)
	b = append(b, `,"collected_at":`...)
	b = append(b, at...)
	b = append(b, `,"observations":[`...)
	for i, o := range r.Observations {
		if !o.ID.Valid() {
			return nil, fmt.Errorf("encode observation: unknown control %q", o.ID)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = append(b, o.ID...)
		b = append(b, '"')
		if len(o.Facts) > 0 {
			b = append(b, `,"facts":`...)
			b = append(b, o.Facts...)
		}
		if o.UnknownReason != "" {
			reason, err := json.Marshal(o.UnknownReason)
			if err != nil {
				return nil, fmt.Errorf("encode unknown_reason: %w", err)
			}
			b = append(b, `,"unknown_reason":`...)
			b = append(b, reason...)
		}
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b, nil
}
