#!/usr/bin/env bash
# Builds the one static binary that admins copy onto login nodes: dist/portwrap.
# libslirp is built from source (subprojects/libslirp.wrap), glib and glibc are linked
# statically. Run scripts/install-deps.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/fetch-libslirp.sh
# Each function and object in its own section, and the linker drops those nothing
# uses: the static binary stays under its 3 MB budget (docs/building.md has figures).
size_options=(-Dc_args='-ffunction-sections -fdata-sections' -Dcpp_args='-ffunction-sections -fdata-sections'
    -Dc_link_args=-Wl,--gc-sections -Dcpp_link_args=-Wl,--gc-sections)
if [[ -f build-static/build.ninja ]]; then
    meson setup --reconfigure build-static --wrap-mode=nodownload >/dev/null
else
    meson setup build-static --wrap-mode=nodownload --buildtype=release \
        -Dstatic=true -Dprefer_static=true -Dforce_fallback_for=slirp
fi
# (meson 1.0's setup --reconfigure ignores -D for these; configure applies them)
meson configure build-static "${size_options[@]}"
# The link warns about getpwuid/getpwnam_r in glib: expected, see docs/building.md.
ninja -C build-static
mkdir -p dist
strip -o dist/portwrap build-static/src/portwrap
echo "build-static: $(file -b dist/portwrap | cut -d, -f1-4)"
echo "build-static: dist/portwrap ($(stat -c %s dist/portwrap) bytes)"
