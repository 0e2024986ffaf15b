#!/usr/bin/env bash
# systemd unit: docs/examples/portwrap-jupyter.service passes 'systemd-analyze verify
# --user' (with its portwrap path pointed at the built binary, and the built man
# page on MANPATH so that Documentation=man:portwrap(1) resolves), and its ExecStart
# is a portwrap command line whose options portwrap accepts.
#
# usage: test-systemd-unit.sh UNIT_FILE MAN_PAGE      (PORTWRAP=path/to/portwrap)
set -uo pipefail
export LC_ALL=C.UTF-8

unit=${1:?usage: test-systemd-unit.sh UNIT_FILE MAN_PAGE}
man_page=${2:?usage: test-systemd-unit.sh UNIT_FILE MAN_PAGE}
: "${PORTWRAP:?set PORTWRAP to the portwrap binary}"
failures=0
fail() { echo "systemd-unit: FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "systemd-unit: ok: $*"; }
command -v systemd-analyze >/dev/null ||
    { echo "systemd-unit: SKIP: systemd-analyze (package systemd) is not installed"; exit 77; }

tmp=$(mktemp -d /tmp/portwrap-unit.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/unit" "$tmp/man/man1" "$tmp/run"
chmod 0700 "$tmp/run"
cp "$man_page" "$tmp/man/man1/portwrap.1"
name=$(basename "$unit")
portwrap_abs=$(readlink -f "$PORTWRAP")

exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ -n $exec_start ]] || fail "no ExecStart= in $unit"
[[ $exec_start == /usr/local/bin/portwrap\ * ]] ||
    fail "ExecStart does not start with /usr/local/bin/portwrap (where docs/install.md installs it)"
sed "s#^ExecStart=/usr/local/bin/portwrap #ExecStart=$portwrap_abs #" "$unit" >"$tmp/unit/$name"

# systemd-analyze verify --user needs a runtime directory; it prints a line for each
# problem (unknown keys, bad values, missing executables or man pages).
if XDG_RUNTIME_DIR=$tmp/run MANPATH=$tmp/man timeout 60 systemd-analyze verify --user "$tmp/unit/$name" \
    >"$tmp/out" 2>&1 </dev/null && [[ ! -s $tmp/out ]]; then
    pass "systemd-analyze verify --user $name: no complaints"
else
    fail "systemd-analyze verify --user $name:"
    sed 's/^/    | /' "$tmp/out" | head -n 20
fi

# The ExecStart command line: portwrap accepts its options (the words before "--").
read -ra words <<<"$exec_start"
opts=()
for w in "${words[@]:1}"; do
    [[ $w == -- ]] && break
    opts+=("$w")
done
if "$PORTWRAP" "${opts[@]}" --help >/dev/null 2>"$tmp/err"; then
    pass "ExecStart's options parse: ${opts[*]}"
else
    fail "ExecStart's options are rejected: ${opts[*]}: $(cat "$tmp/err")"
fi
grep -q -- '{guest-port}' <<<"$exec_start" || fail "ExecStart does not pass {guest-port} to the command"
grep -q '^KillMode=mixed$' "$unit" || fail "KillMode is not 'mixed' (SIGTERM must go to portwrap, which forwards it)"

if ((failures)); then
    echo "systemd-unit: $failures failure(s)"
    exit 1
fi
echo "systemd-unit: all checks passed"
