// Package pkg builds postern-agent's installers: .deb and .rpm packages
// with nfpm (the binary, the systemd unit from installer/service, and the
// maintainer scripts rendered here), a Windows .msi with wixl from Debian's
// msitools, a macOS tarball with the launchd plist and an install script,
// and Authenticode signatures with osslsigncode. It runs on the build
// machine only (Linux); the scripts and the WiX source are rendered by pure
// functions and tested as text.
package pkg
