package pb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestFrameRoundTrip(t *testing.T) {
	msgs := []*Envelope{
		{Msg: &Envelope_Hello{Hello: &Hello{ProtocolVersion: ProtocolVersion, SoftwareVersion: "1.0.0"}}},
		{Msg: &Envelope_Report{Report: &Report{Sequence: 7, Controls: []*ControlFacts{{Id: "firewall", FactsJson: []byte(`{"x":1}`)}}}}},
		{Msg: &Envelope_Ack{Ack: &Ack{Sequence: 7, Duplicate: true}}},
	}
	var buf bytes.Buffer
	for _, m := range msgs {
		if err := WriteMsg(&buf, m); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	for i, want := range msgs {
		got, err := ReadMsg(&buf)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("message %d: got %v, want %v", i, got, want)
		}
	}
	if _, err := ReadMsg(&buf); !errors.Is(err, io.EOF) {
		t.Errorf("after last frame: got %v, want io.EOF", err)
	}
}

func TestReadMsgRefusesBadFrames(t *testing.T) {
	valid, _ := proto.Marshal(&Envelope{Msg: &Envelope_Ack{Ack: &Ack{Sequence: 1}}})
	frame := func(n uint32, body []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(b, body...)
	}
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"a declared length over the cap is refused before reading", frame(MaxFrameSize+1, nil), ErrFrameTooLarge},
		{"the largest declared length is refused", frame(0xFFFFFFFF, nil), ErrFrameTooLarge},
		{"a zero-length frame is refused", frame(0, nil), ErrEmptyFrame},
		{"a truncated body is an unexpected EOF", frame(uint32(len(valid)+5), valid), io.ErrUnexpectedEOF},
		{"a truncated header is an unexpected EOF", []byte{0, 0}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadMsg(bytes.NewReader(tt.input))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("random bytes in the body are a decode error, not a panic", func(t *testing.T) {
		_, err := ReadMsg(bytes.NewReader(frame(4, []byte{0xff, 0xff, 0xff, 0xff})))
		if err == nil {
			t.Fatal("got nil error")
		}
	})
	t.Run("an envelope with no message set is refused", func(t *testing.T) {
		_, err := ReadMsg(bytes.NewReader(frame(2, []byte{0x50, 0x01}))) // unknown field 10
		if err == nil {
			t.Fatal("got nil error")
		}
	})
}

func TestWriteMsgRefusesOversizedMessage(t *testing.T) {
	big := &Envelope{Msg: &Envelope_Report{Report: &Report{Controls: []*ControlFacts{{FactsJson: make([]byte, MaxFrameSize)}}}}}
	if err := WriteMsg(io.Discard, big); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
}

// FuzzReadMsg feeds arbitrary bytes to the frame reader: it must never
// panic, and never hand back a message from a frame over the cap.
func FuzzReadMsg(f *testing.F) {
	for _, env := range []*Envelope{
		{Msg: &Envelope_Hello{Hello: &Hello{ProtocolVersion: 1}}},
		{Msg: &Envelope_Enroll{Enroll: &EnrollRequest{Token: "pt1.x.y", CsrDer: []byte{1, 2, 3}}}},
		{Msg: &Envelope_Report{Report: &Report{Sequence: 1, Controls: []*ControlFacts{{Id: "firewall", FactsJson: []byte(`{}`)}}}}},
		{Msg: &Envelope_Command{Command: &Command{Cmd: &Command_Recheck{Recheck: &RecheckNow{Reason: "x"}}}}},
	} {
		var buf bytes.Buffer
		if err := WriteMsg(&buf, env); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			before := r.Len()
			env, err := ReadMsg(r)
			if err != nil {
				return
			}
			if consumed := before - r.Len(); consumed > MaxFrameSize+4 {
				t.Fatalf("accepted a frame of %d bytes", consumed)
			}
			if env.Msg == nil {
				t.Fatal("accepted an envelope with no message")
			}
		}
	})
}

func TestEnrollTokenRoundTrip(t *testing.T) {
	tok := EnrollToken{Secret: bytes.Repeat([]byte{7}, 32)}
	tok.CAPin[0] = 9
	got, err := ParseEnrollToken("  " + tok.String() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Secret, tok.Secret) || got.CAPin != tok.CAPin {
		t.Fatalf("round trip changed the token: %+v", got)
	}
	for _, bad := range []string{"", "pt1.", "pt2." + tok.String()[4:], tok.String() + ".x", "pt1.AAAA.BBBB", tok.String() + "A"} {
		if _, err := ParseEnrollToken(bad); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("ParseEnrollToken(%q) = %v, want ErrMalformedToken", bad, err)
		}
	}
}
