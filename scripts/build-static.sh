#!/usr/bin/env bash
# Builds the one static binary that admins copy onto login nodes: dist/portwrap.
# libslirp is built from source (subprojects/libslirp.wrap), glib and glibc are linked
# statically. Run scripts/install-deps.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/fetch-libslirp.sh
if [[ -f build-static/build.ninja ]]; then
    meson setup --reconfigure build-static --wrap-mode=nodownload >/dev/null
else
    meson setup build-static --wrap-mode=nodownload --buildtype=release \
        -Dstatic=true -Dprefer_static=true -Dforce_fallback_for=slirp
fi
# The link warns about getpwuid/getpwnam_r in glib: expected, see docs/building.md.
ninja -C build-static
mkdir -p dist
strip -o dist/portwrap build-static/src/portwrap
echo "build-static: $(file -b dist/portwrap | cut -d, -f1-4)"
echo "build-static: dist/portwrap ($(stat -c %s dist/portwrap) bytes)"
