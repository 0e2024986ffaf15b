#!/usr/bin/env bash
# static binary size: the stripped static binary stays under 3,000,000 bytes, the
# figure docs/install.md promises. The usual way to lose that is an #include of
# <fstream>, <sstream> or <iostream> in src/: it pulls the C++ locale machinery in
# (about 800 KB). This names the culprit when the size is over.
#
# usage: check-size.sh BINARY
set -uo pipefail
binary=${1:?usage: check-size.sh BINARY}
limit=3000000
tmp=$(mktemp /tmp/portwrap-size.XXXXXX) || exit 1
trap 'rm -f "$tmp"' EXIT
strip -o "$tmp" "$binary" || exit 1
size=$(stat -c %s "$tmp")
if ((size < limit)); then
    echo "size: ok: the stripped static binary is $size bytes (limit $limit)"
    exit 0
fi
echo "size: FAIL: the stripped static binary is $size bytes, over $limit"
if nm -C "$binary" | grep 'std::basic_ifstream\|std::basic_stringstream\|std::money_get' >/dev/null; then
    echo "size: it holds iostreams and the locale facets: look for <fstream>, <sstream>, <iostream> in src/"
fi
exit 1
