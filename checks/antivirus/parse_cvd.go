package antivirus

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cvdHeaderSize is the fixed size of a ClamAV database (.cvd/.cld) header.
const cvdHeaderSize = 512

// cvdHeader is the header of a ClamAV database: "ClamAV-VDB:" followed by
// build time, version, signature count, functionality level, MD5, digital
// signature, builder and build time in seconds, colon-separated and padded
// with spaces to 512 bytes.
type cvdHeader struct {
	Built      time.Time
	Version    int
	Signatures int
}

var errNotCVD = errors.New("not a ClamAV database header")

func parseCVDHeader(b []byte) (cvdHeader, error) {
	if len(b) > cvdHeaderSize {
		b = b[:cvdHeaderSize]
	}
	if !bytes.HasPrefix(b, []byte("ClamAV-VDB:")) {
		return cvdHeader{}, errNotCVD
	}
	fields := strings.Split(strings.TrimRight(string(b), " \x00\r\n"), ":")
	if len(fields) < 4 {
		return cvdHeader{}, fmt.Errorf("%w: %d fields", errNotCVD, len(fields))
	}
	var h cvdHeader
	var err error
	if h.Version, err = strconv.Atoi(fields[2]); err != nil {
		return cvdHeader{}, fmt.Errorf("%w: version %q", errNotCVD, fields[2])
	}
	h.Signatures, _ = strconv.Atoi(fields[3])
	// The seconds field is exact; the human time ("07 Mar 2017 08-02
	// -0500", with '-' for ':') is the fallback.
	if len(fields) >= 9 {
		if s, err := strconv.ParseInt(strings.TrimSpace(fields[8]), 10, 64); err == nil && s > 0 {
			h.Built = time.Unix(s, 0).UTC()
			return h, nil
		}
	}
	t, err := time.Parse("02 Jan 2006 15-04 -0700", strings.TrimSpace(fields[1]))
	if err != nil {
		return cvdHeader{}, fmt.Errorf("%w: build time %q", errNotCVD, fields[1])
	}
	h.Built = t.UTC()
	return h, nil
}
