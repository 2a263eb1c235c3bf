package allowcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// Program names a program the agent may start.
type Program string

// Programs the agent may start.
const (
	RunUser    Program = "runuser"
	Env        Program = "env"
	NotifySend Program = "notify-send"
	Launchctl  Program = "launchctl"
	Osascript  Program = "osascript"
	Msg        Program = "msg"
	// Schtasks registers and starts the task that shows a toast in the
	// console user's session on Windows.
	Schtasks Program = "schtasks"
	// PowerShell is never started by the agent itself: its path is the
	// action of that task, so it lives in this table with the others.
	PowerShell Program = "powershell"
	// Certutil and Pk12util (Debian's libnss3-tools) manage the user's
	// NSS database, and Modutil registers the PKCS#11 module serving a
	// TPM device key in it; Mkdir creates it, as the user.
	Certutil Program = "certutil"
	Pk12util Program = "pk12util"
	Modutil  Program = "modutil"
	Mkdir    Program = "mkdir"
	// Security manages the macOS keychain (package browsercert).
	Security Program = "security"
	// CertutilExe imports into the user's certificate store on Windows;
	// like PowerShell it runs as the action of a task in the user's
	// session. Icacls restricts the file it imports to that user.
	CertutilExe Program = "certutil.exe"
	Icacls      Program = "icacls"
)

// ErrNotAllowed: the program is not allowed on this OS.
var ErrNotAllowed = errors.New("program is not allowed on this OS")

// paths are the absolute paths per GOOS.
var paths = map[string]map[Program]string{
	"linux": {
		RunUser:    "/usr/sbin/runuser",
		Env:        "/usr/bin/env",
		NotifySend: "/usr/bin/notify-send",
		Certutil:   "/usr/bin/certutil",
		Pk12util:   "/usr/bin/pk12util",
		Modutil:    "/usr/bin/modutil",
		Mkdir:      "/usr/bin/mkdir",
	},
	"darwin": {
		Launchctl: "/bin/launchctl",
		Osascript: "/usr/bin/osascript",
		Security:  "/usr/bin/security",
	},
	"windows": {
		Msg:         `C:\Windows\System32\msg.exe`,
		Schtasks:    `C:\Windows\System32\schtasks.exe`,
		PowerShell:  `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		CertutilExe: `C:\Windows\System32\certutil.exe`,
		Icacls:      `C:\Windows\System32\icacls.exe`,
	},
}

// Path returns p's absolute path on goos.
func Path(goos string, p Program) (string, error) {
	if path, ok := paths[goos][p]; ok {
		return path, nil
	}
	return "", fmt.Errorf("%s on %s: %w", p, goos, ErrNotAllowed)
}

// Runner runs an allowed program; Exec is the real one, tests use fakes.
type Runner interface {
	Run(ctx context.Context, p Program, args ...string) ([]byte, error)
}

// Limits of one run.
const (
	DefaultTimeout = 30 * time.Second
	maxOutput      = 64 << 10
)

// Exec runs programs on this machine.
type Exec struct {
	// GOOS selects the path table.
	GOOS string
	// Timeout bounds one run; DefaultTimeout when zero.
	Timeout time.Duration
}

// Run starts p with args and an empty environment, and returns its
// combined output (at most 64 KiB). A non-zero exit is an error that
// carries the output's start.
func (e Exec) Run(ctx context.Context, p Program, args ...string) ([]byte, error) {
	path, err := Path(e.GOOS, p)
	if err != nil {
		return nil, err
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out limited
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("run %s: %w: %s", p, err, bytes.TrimSpace(out.head()))
	}
	return out.Bytes(), nil
}

// limited keeps the first maxOutput bytes written to it.
type limited struct{ bytes.Buffer }

func (l *limited) Write(b []byte) (int, error) {
	if room := maxOutput - l.Len(); room > 0 {
		if len(b) > room {
			l.Buffer.Write(b[:room])
		} else {
			l.Buffer.Write(b)
		}
	}
	return len(b), nil
}

func (l *limited) head() []byte {
	b := l.Bytes()
	if len(b) > 200 {
		b = b[:200]
	}
	return b
}
