package pkg

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
)

// The server package's names and paths.
const (
	ServerPackageName = "postern-server"
	serverBin         = "/usr/bin/postern-server"
	serverUnit        = "postern-server.service"
	serverUser        = "postern"
	// ServerConfig is the packaged configuration file. /etc/postern stays
	// root-only (the agent's enrollment token may live there too): the
	// service reads the file as a systemd credential.
	ServerConfig = "/etc/postern/server.yaml"
	// ServerStateDir is the data directory (StateDirectory=).
	ServerStateDir = "/var/lib/postern-server"
	// serverBindDropIn is the example drop-in that grants binding ports
	// below 1024, installed under /usr/share/doc, never active by itself.
	serverBindDropIn = "/usr/share/doc/postern-server/bind-privileged-port.conf"
)

// ServerSystemdUnit is the server's unit: its own system user, the data
// directory as StateDirectory, a read-only system, no capabilities at all
// (binding 443 needs the drop-in of ServerBindDropIn), and the
// configuration from /etc/postern/server.yaml passed as a credential.
func ServerSystemdUnit() string { return serverSystemdUnit(serverBin) }

func serverSystemdUnit(exe string) string {
	return `[Unit]
Description=Postern server: device posture ingest, enrollment and gateway decisions
Documentation=https://github.com/postern-dev/postern
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=` + serverUser + `
Group=` + serverUser + `
LoadCredential=server.yaml:` + ServerConfig + `
# init creates the server (CA and database) on the first start and changes
# nothing after; it refuses, as serve does, a database lost next to the CA.
ExecStartPre=` + exe + ` init --config %d/server.yaml
ExecStart=` + exe + ` serve --config %d/server.yaml
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
StateDirectory=postern-server
StateDirectoryMode=0700
UMask=0077

# Hardening: nothing but its data directory is writable, no privileges.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
CapabilityBoundingSet=
AmbientCapabilities=

[Install]
WantedBy=multi-user.target
`
}

// ServerBindDropIn lets the server bind ports below 1024 (https: :443).
// Copy it to /etc/systemd/system/postern-server.service.d/ to use it.
func ServerBindDropIn() string {
	return `# Lets postern-server bind ports below 1024 (for example https: ":443").
# Install: mkdir -p /etc/systemd/system/postern-server.service.d &&
#   cp ` + serverBindDropIn + ` /etc/systemd/system/postern-server.service.d/ &&
#   systemctl daemon-reload && systemctl restart postern-server
[Service]
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
`
}

// ServerConfigFile is the packaged /etc/postern/server.yaml: unprivileged
// ports, the data directory the unit provides.
func ServerConfigFile() string {
	return `# postern-server configuration (docs/deploy-linux.md). Read by the
# postern-server unit as a systemd credential; restart after changes:
#   systemctl restart postern-server
data_dir: ` + ServerStateDir + `
# QUIC ingest (UDP) for agents; the TCP fallback listens on the same port.
quic: ":4433"
# HTTPS API and dashboard. Ports below 1024 need the drop-in in
# ` + serverBindDropIn + `.
https: ":8443"
# Extra names or addresses for the server certificate agents connect to.
# server_names: [postern.example.org]
`
}

// serverScripts create the system user before the files land and manage
// the unit like the agent's (no systemd, no start: containers, chroots).
const serverPreInstall = `#!/bin/sh
set -e
if ! getent passwd ` + serverUser + ` >/dev/null; then
	useradd --system --user-group --home-dir ` + ServerStateDir + ` --no-create-home \
		--shell /usr/sbin/nologin --comment "Postern server" ` + serverUser + ` 2>/dev/null ||
	adduser --system --group --home ` + ServerStateDir + ` --no-create-home --shell /usr/sbin/nologin ` + serverUser + `
fi
`

const serverPostInstall = `#!/bin/sh
set -e
chmod 0600 ` + ServerConfig + ` 2>/dev/null || true
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	# An upgrade restarts a running server; a first install enables it
	# but leaves the start to the administrator, after editing the config.
	if systemctl is-active --quiet ` + serverUnit + `; then
		systemctl restart ` + serverUnit + ` || true
	else
		systemctl enable ` + serverUnit + ` >/dev/null 2>&1 || true
		echo "postern-server: edit ` + ServerConfig + `, then: systemctl start postern-server"
	fi
else
	echo "postern-server: systemd is not running; create the server with: postern-server init --config ` + ServerConfig + `, then start it with: postern-server serve --config ` + ServerConfig + `"
fi
`

const serverPreRemove = `#!/bin/sh
set -e
# deb: "remove" (not "upgrade"); rpm: $1 = 0 on erase, 1 on upgrade.
case "$1" in
upgrade | 1) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
	systemctl disable --now ` + serverUnit + ` >/dev/null 2>&1 || true
fi
`

// ServerLinuxOptions describe one server .deb or .rpm.
type ServerLinuxOptions struct {
	Format, Arch, Version, Binary, OutDir string
	MTime                                 time.Time
	// Sign signs the package when its key file is set.
	Sign PGPSigner
}

// BuildServerLinux builds postern-server's .deb or .rpm: the binary, the
// hardened unit, /etc/postern/server.yaml (a configuration file that
// upgrades keep) and the example drop-in for privileged ports. The data
// directory (StateDirectory) is never in the package, so upgrades and
// removal keep it.
func BuildServerLinux(o ServerLinuxOptions) (string, error) {
	if o.Format != "deb" && o.Format != "rpm" {
		return "", fmt.Errorf("linux package format %q: want deb or rpm", o.Format)
	}
	if _, err := os.Stat(o.Binary); err != nil {
		return "", fmt.Errorf("server package binary: %w", err)
	}
	work, err := stageFiles("server package", map[string]string{
		serverUnit: ServerSystemdUnit(), "server.yaml": ServerConfigFile(), "bind.conf": ServerBindDropIn(),
		"preinstall.sh": serverPreInstall, "postinstall.sh": serverPostInstall, "preremove.sh": serverPreRemove,
	})
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	mtime, info := rootOwned(o.MTime)
	return buildNFPM(o.Format, o.OutDir, o.Sign, nfpm.Info{
		Name: ServerPackageName, Arch: o.Arch, Platform: "linux", Version: o.Version,
		Maintainer: Maintainer, Vendor: Vendor, Homepage: Homepage, License: License,
		Section: "admin", Priority: "optional", MTime: mtime,
		Description: "Postern server: device posture ingest, enrollment, dashboard and gateway decisions",
		Overridables: nfpm.Overridables{
			Contents: files.Contents{
				{Source: o.Binary, Destination: serverBin, FileInfo: info(0o755)},
				{Source: filepath.Join(work, serverUnit), Destination: unitDir + "/" + serverUnit, FileInfo: info(0o644)},
				{Source: filepath.Join(work, "server.yaml"), Destination: ServerConfig, Type: files.TypeConfigNoReplace, FileInfo: info(0o600)},
				{Source: filepath.Join(work, "bind.conf"), Destination: serverBindDropIn, FileInfo: info(0o644)},
			},
			Scripts: nfpm.Scripts{
				PreInstall:  filepath.Join(work, "preinstall.sh"),
				PostInstall: filepath.Join(work, "postinstall.sh"),
				PreRemove:   filepath.Join(work, "preremove.sh"),
			},
			RPM: nfpm.RPM{Group: "System Environment/Daemons", Summary: "Postern device-posture server"},
		},
	})
}
