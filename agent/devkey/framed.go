package devkey

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// maxResponse is the largest TPM 2.0 response go-tpm reads in one call.
const maxResponse = 4096

// framed turns a stream socket into what go-tpm expects of a TPM device:
// each Read returns one whole response. A device node does that by
// itself; a socket may split a response, so framed reads the 10-byte
// header, then the size it announces.
type framed struct {
	conn net.Conn
	buf  []byte
}

func (f *framed) Write(p []byte) (int, error) { return f.conn.Write(p) }

func (f *framed) Read(p []byte) (int, error) {
	if len(f.buf) == 0 {
		hdr := make([]byte, 10)
		if _, err := io.ReadFull(f.conn, hdr); err != nil {
			return 0, fmt.Errorf("read TPM response header: %w", err)
		}
		size := binary.BigEndian.Uint32(hdr[2:6])
		if size < 10 || size > maxResponse {
			return 0, fmt.Errorf("TPM response of %d bytes: %w", size, errBadFrame)
		}
		f.buf = make([]byte, size)
		copy(f.buf, hdr)
		if _, err := io.ReadFull(f.conn, f.buf[10:]); err != nil {
			return 0, fmt.Errorf("read TPM response: %w", err)
		}
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}

func (f *framed) Close() error { return f.conn.Close() }

var errBadFrame = errors.New("malformed TPM response")
