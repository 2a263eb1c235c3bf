#!/usr/bin/env bash
# Build (or reuse) a Debian 13 "trixie" root with Wine 10 for `make wine-test`.
#
# Debian 12's Wine 8 cannot run Go 1.26 Windows binaries (no ProcessPrng in
# bcryptprimitives.dll); trixie's Wine 10 can. The root is debootstrapped from
# the same Debian mirror apt uses on this machine, then wine64 and wine are
# installed inside it and a 64-bit prefix is initialised with wineboot.
#
# The root is cached at ${POSTERN_CACHE:-/var/cache/postern}/wine-root and
# reused while its stamp file exists; delete the directory to rebuild. The
# build's duration and the root's size are written to wine-root.cost beside it.
#
# Needs root (debootstrap, chroot). Prints the root's path on success.
set -euo pipefail

cache=${POSTERN_CACHE:-/var/cache/postern}
root=$cache/wine-root
stamp=$root/.postern-wine-root
cost=$cache/wine-root.cost
# Bump when the recipe changes so cached roots are rebuilt.
recipe=1

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then
	echo "$root"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "wine-root: must run as root (debootstrap and chroot)" >&2
	exit 1
fi

# The mirror apt already uses: the first URIs:/deb line of its sources.
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [ -z "$mirror" ]; then
	mirror=$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null |
		awk '{print $2}' | grep -v security | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null; then
	echo "wine-root: installing debootstrap" >&2
	flock /work/apt.lock apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
		apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

start=$(date +%s)
mkdir -p "$cache"
rm -rf "$root"
# An interrupted build resumes after its last finished stage; a stage that
# did not finish is redone from scratch.
tmp=$cache/wine-root.tmp
if [ ! -f "$tmp/.stage-debootstrap" ]; then
	rm -rf "$tmp"
	echo "wine-root: debootstrap trixie from $mirror" >&2
	debootstrap --variant=minbase --include=ca-certificates trixie "$tmp" "$mirror" >&2
	touch "$tmp/.stage-debootstrap"
fi

mounts=()
cleanup() {
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mount -t proc proc "$tmp/proc" && mounts+=("$tmp/proc")

cat >"$tmp/etc/apt/sources.list" <<SRC
deb $mirror trixie main
SRC
if [ ! -f "$tmp/.stage-wine" ]; then
	echo "wine-root: installing wine64 wine" >&2
	chroot "$tmp" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	chroot "$tmp" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends wine64 wine procps >&2
	chroot "$tmp" apt-get clean
	touch "$tmp/.stage-wine"
fi

echo "wine-root: wineboot --init" >&2
# A 64-bit prefix only: the agent is amd64. Debian 13's wine64 package
# puts its loader in /usr/lib/wine; /usr/bin/wine picks it.
chroot "$tmp" /usr/bin/env HOME=/root WINEPREFIX=/root/.wine WINEARCH=win64 \
	WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
	sh -c 'wine wineboot --init && wineserver -w' >&2
wine_version=$(chroot "$tmp" env HOME=/root WINEDEBUG=-all wine --version 2>/dev/null || echo unknown)

cleanup
mounts=()
rm -f "$tmp"/.stage-*
mv "$tmp" "$root"
echo "$recipe" >"$stamp"
end=$(date +%s)
size=$(du -sm "$root" | cut -f1)
printf 'built=%s seconds=%d size_mb=%d wine=%s\n' "$(date -u +%FT%TZ)" $((end - start)) "$size" \
	"$wine_version" >"$cost"
cat "$cost" >&2
echo "$root"
