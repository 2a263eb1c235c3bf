package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

// macOS sources.
const (
	socketFilterPath = "/usr/libexec/ApplicationFirewall/socketfilterfw"
	alfPlistPath     = "/Library/Preferences/com.apple.alf.plist"
	managedFWPath    = "/Library/Managed Preferences/com.apple.security.firewall.plist"
	pfctlPath        = "/sbin/pfctl"
)

// collectDarwin reads the Application Firewall from a managed profile (which
// wins), socketfilterfw and com.apple.alf.plist, and pf as an alternative.
func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	d := &DarwinFacts{}
	managed(h, d)
	out, err := runDarwin(ctx, h, socketFilterPath, "--getglobalstate", "--getblockall", "--getstealthmode")
	if err != nil {
		d.Notes = append(d.Notes, err.Error())
	} else {
		sf := parseSocketFilterFW(out.Stdout)
		d.SocketFilterState = sf.state
		if d.BlockAll == nil {
			d.BlockAll = sf.blockAll
		}
		if d.Stealth == nil {
			d.Stealth = sf.stealth
		}
		if sf.state == nil {
			d.Notes = append(d.Notes, "socketfilterfw printed no global state: "+firstLine(out.Stdout, out.Stderr))
		}
	}
	alfPlist(h, d)
	switch {
	case d.Managed != nil:
		st := ALFOff
		if *d.Managed {
			st = ALFOn
			if d.BlockAll != nil && *d.BlockAll {
				st = ALFBlockAll
			}
		}
		d.State, d.StateSource = &st, managedFWPath+" EnableFirewall"
	case d.SocketFilterState != nil:
		st := *d.SocketFilterState
		// A real capture (kolide/launcher's socketfilterfw test data)
		// prints "(State = 2)" next to "block all state set to
		// disabled": the firewall is on, but it does not block all
		// incoming connections, so the explicit block-all line wins.
		if st == ALFBlockAll && d.BlockAll != nil && !*d.BlockAll {
			st = ALFOn
			d.Notes = append(d.Notes, "socketfilterfw reports state 2 but block all disabled")
		}
		d.State, d.StateSource = &st, "socketfilterfw --getglobalstate"
	case d.PlistState != nil:
		d.State, d.StateSource = d.PlistState, alfPlistPath+" globalstate"
	}
	d.PF = pfState(ctx, h)
	if d.State == nil && (d.PF == nil || !d.PF.Enabled) {
		reasons := append(d.Notes, "pf: "+pfSummary(d.PF))
		return nil, fmt.Errorf("read the macOS firewall: %s", strings.Join(reasons, "; "))
	}
	return &Facts{Source: "Application Firewall (managed profile, socketfilterfw, com.apple.alf.plist) + pf", Darwin: d}, nil
}

// managed reads the firewall payload of a configuration profile.
func managed(h host.Host, d *DarwinFacts) {
	m, err := readPlist(h, managedFWPath)
	if err != nil {
		if !errors.Is(err, host.ErrNotFound) {
			d.Notes = append(d.Notes, err.Error())
		}
		return
	}
	if v, ok := m["EnableFirewall"].(bool); ok {
		d.Managed = &v
	}
	if v, ok := m["BlockAllIncoming"].(bool); ok {
		d.BlockAll = &v
	}
	if v, ok := m["EnableStealthMode"].(bool); ok {
		d.Stealth = &v
	}
}

func alfPlist(h host.Host, d *DarwinFacts) {
	m, err := readPlist(h, alfPlistPath)
	switch {
	case errors.Is(err, host.ErrNotFound):
		// macOS 15 and later keep the state elsewhere; socketfilterfw
		// still answers.
		return
	case err != nil:
		d.Notes = append(d.Notes, err.Error())
		return
	}
	if n, ok := plistval.Int(m["globalstate"]); ok {
		st := int(n)
		d.PlistState = &st
	}
}

func readPlist(h host.Host, path string) (map[string]any, error) {
	b, err := h.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var m map[string]any
	if _, err := plistval.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return m, nil
}

// pfState reads pf's status and rules; both need root.
func pfState(ctx context.Context, h host.Host) *PFState {
	out, err := runDarwin(ctx, h, pfctlPath, "-s", "info")
	if err != nil {
		return &PFState{Reason: err.Error()}
	}
	enabled, ok := parsePFInfo(out.Stdout)
	if !ok {
		return &PFState{Reason: "pfctl -s info: " + pfProblem(out)}
	}
	pf := &PFState{Enabled: enabled}
	if !enabled {
		return pf
	}
	rules, err := runDarwin(ctx, h, pfctlPath, "-s", "rules")
	if err != nil {
		pf.Reason = err.Error()
		return pf
	}
	pf.BlockRule = pfBlockAllIn(rules.Stdout)
	return pf
}

// pfProblem explains output without a status line, calling out the usual
// cause: the agent is not root.
func pfProblem(out host.Output) string {
	msg := firstLine(out.Stderr, out.Stdout)
	if strings.Contains(strings.ToLower(string(out.Stderr)), "permission denied") {
		return "needs root (the agent is not running as root): " + msg
	}
	return fmt.Sprintf("exit %d: %s", out.ExitCode, msg)
}

func runDarwin(ctx context.Context, h host.Host, path string, args ...string) (host.Output, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	name := path[strings.LastIndexByte(path, '/')+1:]
	out, err := h.Run(ctx, path, args...)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, host.ErrNotFound):
		return out, fmt.Errorf("%s is not installed (%s)", name, path)
	case errors.Is(err, host.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return out, fmt.Errorf("%s timed out after %s", name, host.DefaultCommandTimeout)
	}
	return out, fmt.Errorf("run %s: %w", name, err)
}

// firstLine returns the first non-empty, non-ALTQ line of the outputs,
// bounded; macOS pfctl prints ALTQ notices on every call.
func firstLine(outs ...[]byte) string {
	for _, b := range outs {
		for _, l := range strings.Split(string(bytes.ReplaceAll(b, []byte("\r"), nil)), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.Contains(l, "ALTQ") {
				continue
			}
			if len(l) > 200 {
				l = l[:200]
			}
			return l
		}
	}
	return "no output"
}
