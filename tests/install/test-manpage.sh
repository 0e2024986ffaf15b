#!/usr/bin/env bash
# man page: the built portwrap(1) renders with 'man -l' without errors or warnings,
# lists exactly the options that 'portwrap --help' lists (each in the same form,
# e.g. "-p, --host-port=PORT"), and has the sections the project promises: exit
# status, environment, files, examples, security.
#
# usage: test-manpage.sh MAN_PAGE        (PORTWRAP=path/to/portwrap in the environment)
set -uo pipefail
export LC_ALL=C.UTF-8 MANWIDTH=80

man_page=${1:?usage: test-manpage.sh MAN_PAGE}
: "${PORTWRAP:?set PORTWRAP to the portwrap binary}"
failures=0
fail() { echo "manpage: FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "manpage: ok: $*"; }
command -v man >/dev/null || { echo "manpage: SKIP: man (package man-db) is not installed"; exit 77; }

tmp=$(mktemp -d /tmp/portwrap-manpage.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Rendering: exit status 0, nothing on stderr, even with groff's warnings on.
if timeout 60 man --warnings -l "$man_page" >"$tmp/man.txt" 2>"$tmp/man.err" </dev/null; then
    pass "man -l renders $man_page ($(wc -l <"$tmp/man.txt") lines)"
else
    fail "man -l $man_page failed"
fi
if [[ -s $tmp/man.err ]]; then
    fail "man -l printed on stderr:"
    sed 's/^/    | /' "$tmp/man.err" | head -n 20
else
    pass "man -l printed nothing on stderr"
fi
[[ $(wc -l <"$tmp/man.txt") -gt 100 ]] || fail "the rendered man page is suspiciously short"

"$PORTWRAP" --help >"$tmp/help.txt" || fail "portwrap --help failed"

# Option terms: in the help, "  -p, --host-port=PORT   text" or "      --map-root   text";
# in the rendered man page, the indented terms of the OPTIONS section.
help_terms() {
    grep -E '^ {2}(-[[:alnum:]], )?--|^ {6}--' "$tmp/help.txt" |
        sed -E 's/^ +//; s/^((-[[:alnum:]], )?--[[:alnum:]-]+(=[][A-Z_:]+)?).*/\1/'
}
man_terms() {
    awk '/^OPTIONS$/ { on = 1; next } /^[A-Z]/ { on = 0 } on' "$tmp/man.txt" |
        grep -E '^ {7}-' | sed -E 's/^ +//; s/ +$//'
}
help_terms | sort >"$tmp/help.terms"
man_terms | sort >"$tmp/man.terms"
if [[ $(wc -l <"$tmp/help.terms") -lt 8 ]]; then
    fail "found only $(wc -l <"$tmp/help.terms") options in --help"
fi
if diff -u "$tmp/help.terms" "$tmp/man.terms" >"$tmp/terms.diff"; then
    pass "--help and the man page list the same $(wc -l <"$tmp/help.terms") options: $(tr '\n' ' ' <"$tmp/help.terms")"
else
    fail "options differ between --help (-) and the man page's OPTIONS section (+):"
    sed 's/^/    | /' "$tmp/terms.diff"
fi

# Every option name in --help appears in the man page's text, and every option of
# portwrap's that the man page names anywhere (its OPTIONS terms) is in --help.
while read -r opt; do
    grep -qF -- "$opt" "$tmp/man.txt" || fail "the man page never mentions $opt"
done < <(grep -oE -- '(^|[ ,])--?[[:alnum:]][[:alnum:]-]*' <(help_terms) | tr -d ' ,' | sort -u)

# Sections and facts the man page must have.
for section in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES SECURITY 'SEE ALSO'; do
    grep -qx "$section" "$tmp/man.txt" || fail "no section $section"
done
section_has() {  # section_has SECTION TEXT...
    local section=$1 text
    shift
    awk -v s="$section" '$0 == s { on = 1; next } /^[A-Z]/ { on = 0 } on' "$tmp/man.txt" >"$tmp/section"
    for text in "$@"; do
        grep -qF -- "$text" "$tmp/section" || fail "section $section does not mention '$text'"
    done
}
section_has 'EXIT STATUS' 125 126 127 128+N
section_has ENVIRONMENT PATH USER newuidmap
section_has FILES /etc/subuid /etc/subgid /etc/passwd /dev/net/tun
section_has EXAMPLES '{guest-port}' 'ssh -L' '--ip=0.0.0.0'
section_has SECURITY 127.0.0.1 --host-addr=0.0.0.0
grep -qF "Report bugs through the portwrap project's issue tracker." "$tmp/man.txt" ||
    fail "no bug-report line"

# The version in the page's footer is the binary's.
version=$("$PORTWRAP" --version | awk '{ print $2 }')
if tail -n 1 "$tmp/man.txt" | grep -qF "portwrap $version"; then
    pass "footer names portwrap $version"
else
    fail "footer does not name portwrap $version: $(tail -n 1 "$tmp/man.txt")"
fi

# Every example in the man page parses as a portwrap command line (--help is used to
# stop before anything runs: options first, so the parser must accept them all).
while read -r example; do
    read -ra words <<<"$example"
    opts=()
    for w in "${words[@]:1}"; do
        [[ $w == -- ]] && break
        opts+=("$w")
    done
    if "$PORTWRAP" "${opts[@]}" --help >/dev/null 2>"$tmp/err"; then
        pass "example's options parse: ${opts[*]}"
    else
        fail "example's options are rejected: ${opts[*]}: $(cat "$tmp/err")"
    fi
done < <(awk '/^EXAMPLES$/ { on = 1; next } /^[A-Z]/ { on = 0 } on' "$tmp/man.txt" |
    grep -oE 'portwrap( -[^ ]+( [0-9.]+)?)+ --')

if ((failures)); then
    echo "manpage: $failures failure(s)"
    exit 1
fi
echo "manpage: all checks passed"
