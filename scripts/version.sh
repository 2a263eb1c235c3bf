#!/bin/sh
# Prints the version every build stamps: the tag on HEAD (v1.2.3 -> 1.2.3)
# for a release, else the VERSION file plus the commit as semver build
# metadata (0.11.0+g1a2b3c4, "-dirty" appended for uncommitted changes).
# Packages keep the leading numbers (installer/pkg.NumericVersion).
set -eu
cd "$(dirname "$0")/.."
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
	echo "${tag#v}"
	exit 0
fi
base=$(tr -d ' \n' <VERSION)
if rev=$(git rev-parse --short=9 HEAD 2>/dev/null); then
	dirty=
	git diff --quiet HEAD -- 2>/dev/null || dirty=.dirty
	echo "$base+g$rev$dirty"
else
	echo "$base"
fi
