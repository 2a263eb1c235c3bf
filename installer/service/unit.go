package service

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// SystemdUnit returns the systemd unit for s. Hardening stops short of
// what the checks need: the agent runs as root to read /etc/shadow and
// PAM settings, lists nftables rules (netlink, CAP_NET_ADMIN), reads block
// devices for disk encryption (so no PrivateDevices), users' desktop
// settings, and places the device certificate in users' NSS databases
// (so home directories stay writable, by the user's own commands).
func SystemdUnit(s Spec) string {
	var b strings.Builder
	b.WriteString(`[Unit]
Description=` + DisplayName + `: device posture for Policy 550.04
Documentation=https://github.com/postern-dev/postern
Wants=network-online.target
After=network-online.target
ConditionFileIsExecutable=` + systemdEscape(s.Executable) + `
# Survive restart storms instead of giving up after five quick failures.
# A [Unit] setting: systemd ignores it in [Service].
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=` + systemdQuote(s.Executable))
	for _, a := range s.Args() {
		b.WriteString(" " + systemdQuote(a))
	}
	b.WriteString(`
Restart=always
RestartSec=10
TimeoutStopSec=30
KillMode=mixed
UMask=0077
Nice=10
IOSchedulingClass=idle
MemoryMax=200M

# Hardening that leaves every check working.
NoNewPrivileges=yes
ProtectSystem=full
ReadWritePaths="-` + systemdEscape(s.StateDir) + `"
# The service deletes the enrollment secret left in the provisioning
# directory once it has taken it over.
ReadWritePaths=-` + ProvisionDir + `
# No ProtectHome: the device certificate (or, for a TPM key, the PKCS#11
# module) is placed in the console user's NSS databases under their home,
# by commands run as that user (runuser), which inherit this namespace.
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`)
	return b.String()
}

// systemdEscape escapes the characters systemd expands in unit values.
func systemdEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `$`, `$$`).Replace(v)
}

// systemdQuote quotes a command-line word for ExecStart. Validate has
// already refused double quotes and newlines; % is refused too, since
// systemd would read it as a specifier.
func systemdQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t'\\$;") {
		return v
	}
	return `"` + systemdEscape(v) + `"`
}

// LaunchdPlist returns the launchd daemon plist for s: started at boot
// and kept alive, at background priority. Its logs go to a rotated file
// in the state directory, so the plist sets no output paths.
func LaunchdPlist(s Spec) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + LaunchdLabel + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + xmlEscape(s.Executable) + `</string>
`)
	for _, a := range s.Args() {
		b.WriteString("\t\t<string>" + xmlEscape(a) + "</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<true/>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>ProcessType</key>
	<string>Background</string>
	<key>Umask</key>
	<integer>63</integer>
	<key>ExitTimeOut</key>
	<integer>30</integer>
</dict>
</plist>
`)
	return b.String()
}

func xmlEscape(v string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}
