#!/usr/bin/env bash
# Builds the minimal Debian root that the live Linux collectors are tested in
# (checks/internal/roottest). One base root holds every package a variant
# needs; each test lays a throwaway overlay on it and changes only config.
#
#   scripts/debian-root.sh            build if missing, print the root's path
#   scripts/debian-root.sh --rebuild  build again
#
# The root lives outside the clone, in ${POSTERN_CACHE:-/var/cache/postern}/roots,
# and is reused between runs. It needs root, debootstrap and Debian's mirror
# (POSTERN_DEBIAN_MIRROR, default http://deb.debian.org/debian).
set -euo pipefail

suite=bookworm
cache=${POSTERN_CACHE:-/var/cache/postern}/roots
mirror=${POSTERN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${POSTERN_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Bump when the package list or the build steps change, so that old caches
# are rebuilt instead of reused.
version=2
root=$cache/$suite-v$version

# What the variants need, beyond minbase: PAM (faillock ships in
# libpam-modules; pwquality), apt's unattended-upgrades, ClamAV's scanner,
# daemon and updater, dconf with GNOME's schemas, nftables and ufw, and
# systemd so that systemctl exists but cannot answer (nothing boots it),
# cron for the jobs that run without systemd, and pamtester to try a PAM
# stack for real.
packages=(
	libpam-pwquality
	unattended-upgrades
	clamav clamav-daemon clamav-freshclam
	dconf-cli dconf-gsettings-backend gsettings-desktop-schemas
	nftables ufw
	systemd
	cron pamtester
)

if [ "${1:-}" = --rebuild ]; then
	rm -rf "$root"
fi
if [ -f "$root/.postern-root-complete" ]; then
	echo "$root"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "debian-root: must run as root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debian-root: debootstrap missing: apt-get install -y debootstrap" >&2; exit 1; }

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build-$suite.XXXXXX")
cleanup() {
	for m in var/cache/apt/archives proc dev; do umount "$tmp/$m" 2>/dev/null || true; done
	# Never remove a tree that still has something mounted in it (a bound
	# /dev would be the host's).
	if findmnt -rn -o TARGET | grep -q "^$tmp/"; then
		echo "debian-root: $tmp still has mounts; not removed" >&2
		return
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

start=$(date +%s)
echo "debian-root: debootstrap $suite into $tmp" >&2
# Downloaded packages are kept beside the roots, so a rebuild (a new
# version of this script) downloads only what changed.
mkdir -p "$cache/debs" "$cache/apt-archives/partial"
debootstrap --variant=minbase --cache-dir="$cache/debs" \
	"$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
	tail -30 "$tmp.log" >&2
	rm -f "$tmp.log"
	exit 1
}
rm -f "$tmp.log"
mount --bind /dev "$tmp/dev"
mount -t proc proc "$tmp/proc"
mkdir -p "$tmp/var/cache/apt/archives"
mount --bind "$cache/apt-archives" "$tmp/var/cache/apt/archives"
cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
# No service starts inside the root while packages are installed.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod +x "$tmp/usr/sbin/policy-rc.d"
echo "debian-root: installing ${packages[*]}" >&2
chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
rm "$tmp/usr/sbin/policy-rc.d"
umount "$tmp/var/cache/apt/archives"

# The security suite's package lists, fetched once here so that a variant
# that adds the suite to its sources can simulate an upgrade offline. The
# base root's own sources stay as debootstrap leaves them (no -security), the
# commonest mistake on hand-built machines.
mkdir -p "$tmp/var/lib/postern-test/security-lists"
cat >"$tmp/var/lib/postern-test/security.sources" <<EOF
Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cp "$tmp/var/lib/postern-test/security.sources" "$tmp/etc/apt/sources.list.d/security.sources"
chroot "$tmp" apt-get update -qq >&2
umount "$tmp/proc" "$tmp/dev"
cp -a "$tmp"/var/lib/apt/lists/*security* "$tmp/var/lib/postern-test/security-lists/"
rm "$tmp/etc/apt/sources.list.d/security.sources"
# Back to the lists of the sources debootstrap wrote.
find "$tmp/var/lib/apt/lists" -maxdepth 1 -name '*security*' -delete
chroot "$tmp" apt-get clean
# apt's binary caches, so that each variant's apt-get does not rebuild them
# (5 s each).
chroot "$tmp" apt-cache gencaches >/dev/null
: >"$tmp/etc/resolv.conf"

touch "$tmp/.postern-root-complete"
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
echo "debian-root: built $root in $(($(date +%s) - start)) s, $(du -sm "$root" | cut -f1) MB" >&2
echo "$root"
