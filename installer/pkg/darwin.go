package pkg

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postern-dev/postern/installer/service"
)

// Installed locations on macOS.
const (
	darwinBin   = "/usr/local/bin/postern-agent"
	darwinState = "/Library/Application Support/Postern"
)

// DarwinOptions describe the macOS tarball.
type DarwinOptions struct {
	// Version goes into the file name.
	Version string
	// Binaries maps a Go architecture ("amd64", "arm64") to its binary.
	Binaries map[string]string
	// OutDir receives postern-agent_VERSION_darwin.tar.gz.
	OutDir string
	// MTime is every entry's time; the Unix epoch when zero.
	MTime time.Time
}

// DarwinPlist is the launchd plist the tarball ships, the same text the
// agent's `install` hands to launchd.
func DarwinPlist() string {
	return service.LaunchdPlist(service.Spec{Executable: darwinBin, StateDir: darwinState})
}

// BuildDarwin writes the macOS tarball and returns its path. It holds
// ARCH/postern-agent for each architecture, the launchd plist and
// install.sh (see DarwinInstallScript), under one top directory.
func BuildDarwin(o DarwinOptions) (string, error) {
	if len(o.Binaries) == 0 || o.Version == "" || o.OutDir == "" {
		return "", errors.New("darwin tarball: binaries, version and output directory are required")
	}
	top := fmt.Sprintf("%s_%s_darwin", PackageName, o.Version)
	mtime := o.MTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0).UTC()
	}
	type entry struct {
		name string
		mode int64
		body []byte
	}
	entries := []entry{
		{service.LaunchdLabel + ".plist", 0o644, []byte(DarwinPlist())},
		{"install.sh", 0o755, []byte(DarwinInstallScript())},
	}
	archs := make([]string, 0, len(o.Binaries))
	for a := range o.Binaries {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	for _, a := range archs {
		b, err := os.ReadFile(o.Binaries[a])
		if err != nil {
			return "", fmt.Errorf("darwin binary: %w", err)
		}
		entries = append(entries, entry{a + "/" + PackageName, 0o755, b})
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("darwin tarball: %w", err)
	}
	target := filepath.Join(o.OutDir, top+".tar.gz")
	return target, writeAtomically(target, func(f *os.File) error {
		zw := gzip.NewWriter(f)
		tw := tar.NewWriter(zw)
		for _, e := range entries {
			h := &tar.Header{Name: top + "/" + e.name, Mode: e.mode, Size: int64(len(e.body)),
				ModTime: mtime, Typeflag: tar.TypeReg, Uname: "root", Gname: "wheel", Format: tar.FormatPAX}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := tw.Write(e.body); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return zw.Close()
	})
}

// DarwinInstallScript is the tarball's install.sh, also usable as a
// pkgbuild postinstall script. It installs the binary for this Mac's
// architecture, enrolls when given a server and a token file (keeping an
// existing identity; the token file is deleted after use), and loads the
// launchd daemon.
func DarwinInstallScript() string {
	return strings.NewReplacer(
		"@BIN@", darwinBin, "@STATE@", darwinState, "@LABEL@", service.LaunchdLabel,
	).Replace(darwinInstallSh)
}

const darwinInstallSh = `#!/bin/sh
# Install postern-agent as a launchd daemon. Run as root from the unpacked
# tarball:  sudo ./install.sh [--server HOST:PORT --token-file FILE]
# Remove it: sudo ./install.sh --uninstall [--purge]  (--purge also deletes
# the device identity and state)
set -eu
BIN='@BIN@'
STATE='@STATE@'
LABEL='@LABEL@'
PLIST="/Library/LaunchDaemons/$LABEL.plist"
here=$(cd "$(dirname "$0")" && pwd)

server=
token_file=
uninstall=
purge=
while [ $# -gt 0 ]; do
	case "$1" in
	--server) server=$2; shift 2 ;;
	--token-file) token_file=$2; shift 2 ;;
	--uninstall) uninstall=1; shift ;;
	--purge) purge=1; shift ;;
	*) echo "usage: $0 [--server HOST:PORT --token-file FILE] | --uninstall [--purge]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "install.sh: run as root (sudo)" >&2
	exit 2
fi

if [ -n "$uninstall" ]; then
	launchctl bootout system "$PLIST" 2>/dev/null || true
	# The device certificate leaves the users' login keychains first.
	if [ -x "$BIN" ]; then
		"$BIN" browser-cert remove --state "$STATE" || true
	fi
	rm -f "$PLIST" "$BIN"
	if [ -n "$purge" ]; then
		rm -rf "$STATE"
		echo "postern-agent removed, with its identity and state"
	else
		echo "postern-agent removed; its identity is kept in $STATE (--purge deletes it)"
	fi
	exit 0
fi

case "$(uname -m)" in
arm64) arch=arm64 ;;
x86_64) arch=amd64 ;;
*) echo "install.sh: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac

mkdir -p "$(dirname "$BIN")"
install -m 0755 "$here/$arch/postern-agent" "$BIN.new"
mv -f "$BIN.new" "$BIN"
mkdir -p "$STATE"
chmod 0700 "$STATE"

if [ -n "$server" ] && [ -n "$token_file" ]; then
	if [ -e "$STATE/identity.json" ]; then
		echo "install.sh: already enrolled; keeping this device's identity"
	elif "$BIN" enroll --state "$STATE" --server "$server" --token - <"$token_file"; then
		rm -f "$token_file"
	else
		echo "install.sh: enrollment failed; the daemon waits until the device is enrolled" >&2
	fi
fi

launchctl bootout system "$PLIST" 2>/dev/null || true
install -m 0644 -o root -g wheel "$here/$LABEL.plist" "$PLIST"
launchctl bootstrap system "$PLIST"
echo "postern-agent installed; status: $BIN status"
`
