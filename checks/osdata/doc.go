// Package osdata is the operating-system release data shared by the
// os_supported and os_patched controls: the end-of-life table and patch
// baselines (releases.yaml, embedded with go:embed), and the reading of a
// device's release identity through checks/host (Windows registry, macOS
// SystemVersion.plist or sw_vers, Linux os-release), for Windows, macOS
// and Linux alike.
//
// # The table
//
// releases.yaml lists, per platform (windows, macos, and Linux os-release
// IDs such as ubuntu, debian, rhel, rocky, almalinux, centos, fedora,
// sles, opensuse-leap, opensuse-tumbleweed), each release's end of
// standard security support (`eol`), the extension programs after it
// (`extended`: Windows ESU by activation ID, Ubuntu Pro ESM by service,
// Debian LTS for everyone, SUSE LTSS by product file), and a `source`
// address for every entry. Platform rules say how a release older or
// newer than every listed one is judged, and `supported_latest` encodes
// Apple's unwritten "latest three majors" practice. Baselines give the
// lowest acceptable patch level of a release (Windows build.UBR, macOS
// ProductVersion) with the day it shipped; os_patched applies one from
// that day plus its grace period.
//
// # Server updates
//
// The table is data, not code: the server's policy file can extend or
// replace it without a new build, and because evaluation happens on the
// server, a policy change applies to every device at once:
//
//	controls:
//	  os_supported:
//	    replace_releases: false   # true: use only the entries below
//	    releases:                 # same shape as releases.yaml
//	      - platform: ubuntu
//	        version: "26.10"
//	        name: Ubuntu 26.10
//	        eol: 2027-07-31
//	        source: https://ubuntu.com/about/release-cycle
//	  os_patched:
//	    baselines:
//	      - {platform: windows, version: "26100", minimum: "26100.7000",
//	         released: 2025-11-11, name: November 2025 update,
//	         source: https://support.microsoft.com/en-us/help/5045988}
//
// An override entry with the same platform, version and editions as an
// embedded one replaces it; others are added. Override lists decode
// strictly (a misspelt field is a policy error with its line).
package osdata
