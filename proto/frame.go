package pb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// ProtocolVersion is the version of the wire protocol this build speaks.
const ProtocolVersion = 1

// MaxFrameSize is the hard cap on one framed message, in bytes.
const MaxFrameSize = 1 << 20

// ErrFrameTooLarge is returned when a frame's declared length exceeds MaxFrameSize.
var ErrFrameTooLarge = errors.New("frame exceeds size limit")

// ErrEmptyFrame is returned for a frame whose length is zero.
var ErrEmptyFrame = errors.New("empty frame")

// WriteMsg frames and writes one envelope.
func WriteMsg(w io.Writer, env *Envelope) error {
	body, err := proto.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode envelope: %w", err)
	}
	if len(body) > MaxFrameSize {
		return fmt.Errorf("write %d bytes: %w", len(body), ErrFrameTooLarge)
	}
	if len(body) == 0 {
		return ErrEmptyFrame
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// ReadMsg reads one framed envelope. It never allocates more than
// MaxFrameSize for the body, whatever the peer declares.
func ReadMsg(r io.Reader) (*Envelope, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if n > MaxFrameSize {
		return nil, fmt.Errorf("read %d bytes: %w", n, ErrFrameTooLarge)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read frame body: %w", err)
	}
	env := &Envelope{}
	if err := proto.Unmarshal(body, env); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	if env.Msg == nil {
		return nil, errors.New("decode envelope: no message set")
	}
	return env, nil
}
