//go:build !linux

package browsercert

import (
	"errors"
	"net"
)

// peerUID is not implemented where the key server is not used (it
// serves Linux's PKCS#11 module).
func peerUID(*net.UnixConn) (int, error) {
	return -1, errors.New("peer credentials are read on Linux only")
}
