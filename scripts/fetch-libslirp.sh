#!/usr/bin/env bash
# Puts libslirp's source tarball into subprojects/packagecache/ for the static build,
# from Debian's source package (the unchanged upstream tarball), checked against the
# sha256 in subprojects/libslirp.wrap. Needs root the first time (enables deb-src).
set -euo pipefail
cd "$(dirname "$0")/.."

wrap=subprojects/libslirp.wrap
name=$(sed -n 's/^source_filename *= *//p' "$wrap")
want=$(sed -n 's/^source_hash *= *//p' "$wrap")
cache=subprojects/packagecache
target=$cache/$name

have_good_tarball() { [[ -f $target ]] && echo "$want  $target" | sha256sum --check --status; }

if have_good_tarball; then
    echo "fetch-libslirp: $target is present and matches"
    exit 0
fi

if [[ $(id -u) == 0 ]] && ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
   ! grep -qs '^deb-src' /etc/apt/sources.list; then
    echo "fetch-libslirp: enabling Debian source packages (deb-src)"
    # Same archive and suites as the binary packages.
    cat > /etc/apt/sources.list.d/portwrap-deb-src.sources <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt-get update -q
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt downloads as its own user _apt where it can: give it the folder.
if id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
(cd "$work" && apt-get source --download-only -q libslirp)
mkdir -p "$cache"
cp "$work/$name" "$target"
if ! have_good_tarball; then
    rm -f "$target"
    echo "fetch-libslirp: $name from Debian does not match the sha256 in $wrap" >&2
    exit 1
fi
echo "fetch-libslirp: $target ready"
