// Package service installs and controls postern-agent as a system service
// with kardianos/service: a systemd unit on Linux, a launchd daemon on
// macOS, and a Windows service (automatic delayed start, restarted on
// failure). The systemd unit and the launchd plist are rendered here in
// full, tested as text against golden files, and handed to kardianos as
// its custom template so that what is tested is what is installed; the
// same unit text goes into the .deb and .rpm packages. Portable.
package service
