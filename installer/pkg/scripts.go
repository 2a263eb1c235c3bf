package pkg

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/installer/service"
)

// Paths are where a Linux package puts things; DefaultPaths are the
// packaged ones, tests point them into a scratch tree.
type Paths struct {
	// Bin is the installed agent binary.
	Bin string
	// EtcDir holds the provisioning files enroll.token and server, which
	// the service takes over (service.ProvisionDir).
	EtcDir string
	// StateDir is the agent's state directory (identity, spool, logs).
	StateDir string
	// SystemdRun exists when systemd is the running init system.
	SystemdRun string
	// Unit is the systemd unit's file name.
	Unit string
}

// DefaultPaths are the paths of the .deb and .rpm packages.
func DefaultPaths() Paths {
	return Paths{
		Bin:        "/usr/bin/postern-agent",
		EtcDir:     "/etc/postern",
		StateDir:   "/var/lib/postern",
		SystemdRun: "/run/systemd/system",
		Unit:       service.Name + ".service",
	}
}

// validate refuses paths that would need quoting inside the scripts'
// single-quoted assignments.
func (p Paths) validate() error {
	for _, v := range []string{p.Bin, p.EtcDir, p.StateDir, p.SystemdRun, p.Unit} {
		if v == "" || strings.ContainsAny(v, "'\n\r\\") {
			return fmt.Errorf("package path %q: empty or not safe in a shell script", v)
		}
	}
	return nil
}

// Scripts are a Linux package's maintainer scripts.
type Scripts struct {
	// PostInstall runs after the files are in place (deb postinst
	// "configure", rpm %post).
	PostInstall string
	// PreRemove runs before the files go (deb prerm, rpm %preun).
	PreRemove string
}

// LinuxScripts renders the maintainer scripts for p.
func LinuxScripts(p Paths) (Scripts, error) {
	if err := p.validate(); err != nil {
		return Scripts{}, err
	}
	data := struct {
		Paths
		IdentityFile string
	}{p, state.IdentityFile}
	var post, pre strings.Builder
	if err := postInstallTmpl.Execute(&post, data); err != nil {
		return Scripts{}, fmt.Errorf("render postinstall: %w", err)
	}
	if err := preRemoveTmpl.Execute(&pre, data); err != nil {
		return Scripts{}, fmt.Errorf("render preremove: %w", err)
	}
	return Scripts{PostInstall: post.String(), PreRemove: pre.String()}, nil
}

var postInstallTmpl = template.Must(template.New("postinstall").Parse(`#!/bin/sh
# postern-agent post-install: make the state directory, then enable and
# (re)start the service. It never enrolls and never reads the secret: the
# running service takes over the provisioning files in $ETC (server,
# enroll.token) whenever they appear, before or after this package, and
# enrolls with retries shown by 'postern-agent status'. So installing never
# depends on the server answering, and an existing identity is kept.
set -u
BIN='{{.Bin}}'
ETC='{{.EtcDir}}'
STATE='{{.StateDir}}'
UNIT='{{.Unit}}'

# deb: $1 is "configure" (anything else is not an install); rpm: $1 is 1
# on install and 2 on upgrade.
case "${1:-}" in
configure | 1 | 2 | "") ;;
*) exit 0 ;;
esac

umask 077
mkdir -p "$STATE" && chmod 0700 "$STATE"

if [ -e "$STATE/{{.IdentityFile}}" ]; then
	echo "postern-agent: already enrolled; keeping this device's identity"
elif [ -f "$ETC/enroll.token" ] && [ -f "$ETC/server" ]; then
	echo "postern-agent: the service will enroll this device from $ETC (see: $BIN status)"
else
	echo "postern-agent: not enrolled; put the server's address in $ETC/server and a secret in $ETC/enroll.token (mode 0600), or run: $BIN enroll --server HOST:PORT --token -"
fi

if [ -d '{{.SystemdRun}}' ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	systemctl enable "$UNIT" || echo "postern-agent: could not enable $UNIT" >&2
	# restart also picks up a new binary on upgrade.
	systemctl restart "$UNIT" || echo "postern-agent: could not start $UNIT; see: journalctl -u $UNIT" >&2
else
	echo "postern-agent: systemd is not running; the service is not enabled (run the agent with: $BIN run --service)"
fi
exit 0
`))

var preRemoveTmpl = template.Must(template.New("preremove").Parse(`#!/bin/sh
# postern-agent pre-remove: stop and disable the service when the package
# is removed; an upgrade keeps it (the new post-install restarts it). The
# state directory, and with it the device identity, is kept.
set -u
BIN='{{.Bin}}'
STATE='{{.StateDir}}'
UNIT='{{.Unit}}'

# deb: $1 is "remove" on removal, "upgrade" on upgrade; rpm: $1 is 0 on
# removal, 1 on upgrade.
case "${1:-}" in
remove | 0 | "") ;;
*) exit 0 ;;
esac

if [ -d '{{.SystemdRun}}' ] && command -v systemctl >/dev/null 2>&1; then
	systemctl stop "$UNIT" || true
	systemctl disable "$UNIT" || true
fi
# The device certificate leaves the users' browser stores, and the
# browser policies leave /etc, with the agent.
if [ -x "$BIN" ]; then
	"$BIN" browser-cert remove --state "$STATE" || true
fi
exit 0
`))
