package consoleuser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

// macOS programs, by absolute path.
const (
	statPath = "/usr/bin/stat"
	dsclPath = "/usr/bin/dscl"
)

// notUsers own /dev/console while no one is signed in: the login window
// runs as root, Setup Assistant as _mbsetupuser.
var notUsers = map[string]bool{"root": true, "_mbsetupuser": true, "loginwindow": true}

func findDarwin(ctx context.Context, h host.Host) (User, error) {
	out, err := run(ctx, h, statPath, "-f", "%Su %u", "/dev/console")
	if err != nil {
		return User{}, fmt.Errorf("find the owner of /dev/console: %w", err)
	}
	name, uid, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok {
		return User{}, fmt.Errorf("find the owner of /dev/console: stat printed %q, want \"name uid\"", strings.TrimSpace(string(out)))
	}
	if notUsers[name] {
		return User{}, fmt.Errorf("%w: /dev/console belongs to %s (the login window is showing)", ErrNoConsoleUser, name)
	}
	if _, err := strconv.ParseUint(uid, 10, 32); err != nil || !validName(name) {
		return User{}, fmt.Errorf("find the owner of /dev/console: stat printed %q, want \"name uid\"", strings.TrimSpace(string(out)))
	}
	u := User{Name: name, ID: uid, SessionType: sessionConsole, Source: "stat /dev/console"}
	home, err := darwinHome(ctx, h, name)
	if err != nil {
		return User{}, err
	}
	u.Home = home
	return u, nil
}

// darwinHome reads NFSHomeDirectory from Directory Services; a user whose
// record cannot be read gets the conventional /Users/<name> if it exists.
func darwinHome(ctx context.Context, h host.Host, name string) (string, error) {
	out, dsErr := run(ctx, h, dsclPath, "-plist", ".", "-read", "/Users/"+name, "NFSHomeDirectory")
	if dsErr == nil {
		if home, err := parseDSCLHome(out); err == nil {
			return home, nil
		} else {
			dsErr = err
		}
	}
	guess := "/Users/" + name
	if fi, err := h.Stat(guess); err == nil && fi.IsDir() {
		return guess, nil
	}
	return "", fmt.Errorf("find the home of %s: %w", name, dsErr)
}

// parseDSCLHome reads `dscl -plist . -read /Users/NAME NFSHomeDirectory`.
func parseDSCLHome(b []byte) (string, error) {
	var rec map[string][]string
	if _, err := plistval.Unmarshal(bytes.TrimSpace(b), &rec); err != nil {
		return "", fmt.Errorf("decode dscl output: %w", err)
	}
	for _, k := range []string{"dsAttrTypeStandard:NFSHomeDirectory", "NFSHomeDirectory"} {
		if v := rec[k]; len(v) > 0 && strings.HasPrefix(v[0], "/") {
			return v[0], nil
		}
	}
	return "", errors.New("dscl returned no NFSHomeDirectory")
}
