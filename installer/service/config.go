package service

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	kservice "github.com/kardianos/service"
)

// Names of the installed service.
const (
	Name        = "postern-agent"
	DisplayName = "Postern Agent"
	Description = "Checks this device against Policy 550.04 and reports its posture to the Postern server."
	// LaunchdLabel is the macOS daemon label (and plist file name).
	LaunchdLabel = "dev.postern.agent"
	// ProvisionDir is where configuration management leaves the Linux
	// service its server address and enrollment secret (the files
	// "server" and "enroll.token"); the service deletes the secret once
	// it has taken it over.
	ProvisionDir = "/etc/postern"
)

// Spec says what the service runs. Executable and StateDir must be
// absolute paths.
type Spec struct {
	// Executable is the postern-agent binary the service starts.
	Executable string
	// StateDir is passed to `run --state`.
	StateDir string
}

// Validate checks that the paths are absolute and safe to place, unquoted
// where needed, in a unit file, a plist and a Windows command line.
func (s Spec) Validate() error {
	for _, p := range []struct{ name, v string }{{"executable", s.Executable}, {"state dir", s.StateDir}} {
		if p.v == "" {
			return fmt.Errorf("service %s: empty path", p.name)
		}
		if !filepath.IsAbs(p.v) && !strings.HasPrefix(p.v, "/") {
			return fmt.Errorf("service %s %q: not an absolute path", p.name, p.v)
		}
		// Newlines would inject unit directives; "{{" would be read as a
		// template action by kardianos; quotes and % break systemd's
		// and Windows' quoting.
		if strings.ContainsAny(p.v, "\n\r\"%") || strings.Contains(p.v, "{{") {
			return fmt.Errorf("service %s %q: contains a character that cannot be quoted safely", p.name, p.v)
		}
	}
	return nil
}

// Args are the arguments the service passes to the executable: the run
// loop in service mode, which logs to a file where there is no journal.
func (s Spec) Args() []string {
	return []string{"run", "--service", "--state", s.StateDir}
}

// Config returns the one kardianos configuration, with per-OS options for
// goos ("linux", "darwin", "windows").
func Config(s Spec, goos string) (*kservice.Config, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	c := &kservice.Config{
		Name:        Name,
		DisplayName: DisplayName,
		Description: Description,
		Executable:  s.Executable,
		Arguments:   s.Args(),
		Option:      kservice.KeyValue{},
	}
	switch goos {
	case "windows":
		// Delayed start keeps the boot fast; the failure actions restart
		// the agent 10 s after a crash, every time (reset after a day).
		c.Option["StartType"] = "automatic"
		c.Option["DelayedAutoStart"] = true
		c.Option["OnFailure"] = "restart"
		c.Option["OnFailureDelayDuration"] = "10s"
		c.Option["OnFailureResetPeriod"] = 86400
	case "darwin":
		c.Name = LaunchdLabel
		c.Option["KeepAlive"] = true
		c.Option["RunAtLoad"] = true
		c.Option["LaunchdConfig"] = LaunchdPlist(s)
	case "linux":
		c.Option["Restart"] = "always"
		c.Option["SystemdScript"] = SystemdUnit(s)
	default:
		return nil, errors.New("service: unsupported OS " + goos)
	}
	return c, nil
}
