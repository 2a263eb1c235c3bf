package devkey

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
)

// DefaultTPMPath is where Linux's kernel resource manager serves the TPM.
const DefaultTPMPath = "/dev/tpmrm0"

// OpenTPM opens the TPM at path: a device node (/dev/tpmrm0, /dev/tpm0)
// or the server socket of an swtpm (`swtpm socket --server
// type=unixio,path=...`). With path "" it opens DefaultTPMPath and
// returns ErrNoTPM when there is none.
func OpenTPM(path string) (*TPM, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultTPMPath
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, fmt.Errorf("%s: %w", path, ErrNoTPM)
	}
	if err != nil {
		return nil, fmt.Errorf("open TPM: %w", err)
	}
	if fi.Mode().Type() == fs.ModeSocket {
		c, err := net.Dial("unix", path)
		if err != nil {
			return nil, fmt.Errorf("open TPM socket: %w", err)
		}
		return openChannel(path, &framed{conn: c})
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open TPM: %w", err)
	}
	return openChannel(path, f)
}

// OpenStore opens the hardware key store: the TPM at path (see OpenTPM).
func OpenStore(path string) (Store, error) {
	t, err := OpenTPM(path)
	if err != nil {
		return nil, err
	}
	return t, nil
}
