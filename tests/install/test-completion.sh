#!/usr/bin/env bash
# shell completions: completions/portwrap.bash in bash (on its own, and with the
# bash-completion package loaded), completions/portwrap.fish in fish and
# completions/_portwrap in zsh offer portwrap's options before COMMAND (exactly the
# options 'portwrap --help' lists) and hand over to COMMAND's own completion after
# it, where no portwrap option is offered any more.
#
# usage: test-completion.sh SOURCE_ROOT        (PORTWRAP=path/to/portwrap in the environment)
set -uo pipefail
export LC_ALL=C.UTF-8

source_root=$(cd "${1:?usage: test-completion.sh SOURCE_ROOT}" && pwd) || exit 1
: "${PORTWRAP:?set PORTWRAP to the portwrap binary}"
completions=$source_root/completions
failures=0
fail() { echo "completion: FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "completion: ok: $*"; }

tmp=$(mktemp -d /tmp/portwrap-completion.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/empty" "$tmp/home"  # an empty working directory: no file names to offer
mkdir "$tmp/run" && : >"$tmp/run/jupyter.sock"  # where "portwrap ctl" finds a socket path
sock=$tmp/run/jupyter.sock
# "portwrap ctl SOCKET remove " offers what "portwrap ctl SOCKET list" prints: a
# portwrap first in PATH that answers list for $sock as a running one does (the
# format of portwrap(1): one forward a line, as -p writes it), and fails otherwise.
mkdir "$tmp/bin"
cat >"$tmp/bin/portwrap" <<END
#!/bin/sh
[ "\$#" = 3 ] && [ "\$1" = ctl ] && [ "\$2" = "$sock" ] && [ "\$3" = list ] || exit 125
printf '%s\n' '127.0.0.1:40123:8888/tcp' '[::1]:40124:8888/tcp' '127.0.0.1:40125:53/udp' 'unix:$tmp/run/web.sock:8080'
END
chmod +x "$tmp/bin/portwrap"
printf '%s\n' '127.0.0.1:40123:8888/tcp' '127.0.0.1:40125:53/udp' '[::1]:40124:8888/tcp' "unix:$tmp/run/web.sock:8080" |
    sort >"$tmp/forwards"

# The options --help lists: every "-x" and "--long" on its option lines.
"$PORTWRAP" --help | grep -E '^ {2}(-[[:alnum:]], )?--|^ {6}--' |
    sed -E 's/^ +((-[[:alnum:]], )?--[[:alnum:]-]+).*/\1/' | tr ',' '\n' | tr -d ' ' | sort -u >"$tmp/help-options"
(($(wc -l <"$tmp/help-options") >= 12)) || fail "found only $(wc -l <"$tmp/help-options") option names in --help"

# expect WHAT FILE [+WORD|-WORD|=FILE]... [-- WORD...]: checks the candidates (one a
# line) in FILE: +WORD offered, -WORD not offered, =FILE exactly these; every WORD
# after "--" is not offered (for words that start with '-' themselves).
expect() {
    local what=$1 file=$2 ok=1 spec after=0
    shift 2
    for spec in "$@"; do
        if ((after)); then
            spec=-$spec
        elif [[ $spec == -- ]]; then
            after=1
            continue
        fi
        case $spec in
        +*) grep -qxF -- "${spec:1}" "$file" || { fail "$what: '${spec:1}' not offered"; ok=0; } ;;
        -*) ! grep -qxF -- "${spec:1}" "$file" || { fail "$what: '${spec:1}' offered"; ok=0; } ;;
        =*) if ! diff -u "${spec:1}" <(sort -u "$file") >"$tmp/diff"; then
                fail "$what: candidates differ (- expected, + offered):"
                sed 's/^/    | /' "$tmp/diff"
                ok=0
            fi ;;
        esac
    done
    ((ok)) && pass "$what: $(sort -u "$file" | head -n 12 | tr '\n' ' ')"
}

# ---------------------------------------------------------------- bash
# bash_complete MODE LINE: runs the completion function for LINE (the cursor at its
# end) in a fresh bash, MODE 'plain' (only our file) or 'full' (bash-completion
# first), and prints COMPREPLY, one a line. COMP_WORDS is split as bash splits it
# with the default COMP_WORDBREAKS: "--opt=value" is "--opt" "=" "value".
bash_complete() {
    (cd "$tmp/empty" && HOME=$tmp/home timeout 30 bash --norc --noprofile -s "$1" "$2" "$completions/portwrap.bash") <<'EOF'
mode=$1 line=$2 file=$3
if [[ $mode == full ]]; then
    source /usr/share/bash-completion/bash_completion || exit 3
fi
source "$file" || exit 3
read -ra words <<<"$line"
[[ $line == *' ' ]] && words+=("")
COMP_WORDS=()
for w in "${words[@]}"; do
    if [[ $w == --*=* ]]; then
        COMP_WORDS+=("${w%%=*}" "=")
        [[ -n ${w#*=} || $w == "${words[-1]}" ]] && COMP_WORDS+=("${w#*=}")
    else
        COMP_WORDS+=("$w")
    fi
done
# "--opt=" being completed: bash puts the cursor on the "=" word itself.
[[ ${COMP_WORDS[-1]} == "" && ${COMP_WORDS[-2]} == "=" && $line != *' ' ]] && unset 'COMP_WORDS[-1]'
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
COMPREPLY=()
spec=$(complete -p portwrap) || exit 3
func=$(sed -E 's/.*-F ([^ ]+) .*/\1/' <<<"$spec")
"$func" portwrap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
EOF
}

# The options every "-"/"--" completion should offer (short ones too, for "-").
all_options=$tmp/help-options
grep -- '^--' "$all_options" >"$tmp/help-long"

for mode in plain full; do
    if [[ $mode == full && ! -f /usr/share/bash-completion/bash_completion ]]; then
        fail "bash-completion is not installed (scripts/install-deps.sh installs it)"
        continue
    fi
    b() { bash_complete "$mode" "$1" >"$tmp/out" 2>"$tmp/err" || fail "bash ($mode) '$1': exit $?: $(head -n 3 "$tmp/err")"; }
    b 'portwrap --h'
    expect "bash ($mode) 'portwrap --h'" "$tmp/out" +--help +--host-port +--host-addr -- -p --version --map-root
    b 'portwrap --'
    expect "bash ($mode) 'portwrap --': every long option of --help" "$tmp/out" "=$tmp/help-long"
    b 'portwrap -'
    expect "bash ($mode) 'portwrap -': every option of --help" "$tmp/out" "=$all_options"
    b 'portwrap --host-p'
    expect "bash ($mode) 'portwrap --host-p'" "$tmp/out" +--host-port=
    b 'portwrap --host-addr='
    expect "bash ($mode) 'portwrap --host-addr='" "$tmp/out" +127.0.0.1 +0.0.0.0
    b 'portwrap -v --host-addr '
    expect "bash ($mode) 'portwrap -v --host-addr '" "$tmp/out" +127.0.0.1 +0.0.0.0
    b 'portwrap -p '
    expect "bash ($mode) 'portwrap -p ' (a port number)" "$tmp/out" -- -P --help -v
    b 'portwrap -p 9876 -P 8888 ech'
    expect "bash ($mode) 'portwrap -p 9876 -P 8888 ech': commands" "$tmp/out" +echo -- --help
    b 'portwrap --host-port=9876 -P8888 -v true --h'
    expect "bash ($mode) after COMMAND 'true': no portwrap option" "$tmp/out" -- --help --host-port --host-addr
    b 'portwrap -p 9876 -P 8888 -- --h'
    expect "bash ($mode) after '--': no portwrap option" "$tmp/out" -- --help --host-port --host-addr
    # As getopt_long reads them: grouped short options and shortened long ones.
    b 'portwrap -vp 9876 -P 8888 ech'
    expect "bash ($mode) 'portwrap -vp 9876 -P 8888 ech': commands" "$tmp/out" +echo -- --help
    b 'portwrap --host-p 9876 --guest-p 8888 ech'
    expect "bash ($mode) 'portwrap --host-p 9876 --guest-p 8888 ech': commands" "$tmp/out" +echo -- --help
    b 'portwrap -vp '
    expect "bash ($mode) 'portwrap -vp ' (a port number)" "$tmp/out" -- -P --help -v
    b 'portwrap --host-a '
    expect "bash ($mode) 'portwrap --host-a '" "$tmp/out" +127.0.0.1 +0.0.0.0
    b 'portwrap -pv ech'
    expect "bash ($mode) 'portwrap -pv ech' (-pv: -p with the value v)" "$tmp/out" +echo
    b 'portwrap --ch'
    expect "bash ($mode) 'portwrap --ch'" "$tmp/out" +--check
    # portwrap ctl SOCKET list|add|remove: ctl as the first word, then the socket, the verb.
    b 'portwrap ct'
    expect "bash ($mode) 'portwrap ct'" "$tmp/out" +ctl
    b 'portwrap -p 9876 -P 8888 ct'
    expect "bash ($mode) 'portwrap -p 9876 -P 8888 ct': a command name, not the request" "$tmp/out" -ctl
    b "portwrap ctl $tmp/run/j"
    expect "bash ($mode) 'portwrap ctl DIR/j': the socket path" "$tmp/out" "+$sock"
    b "portwrap ctl $sock "
    printf '%s\n' add list remove >"$tmp/verbs"
    expect "bash ($mode) 'portwrap ctl SOCKET ': the verbs" "$tmp/out" "=$tmp/verbs"
    b "portwrap ctl $sock re"
    expect "bash ($mode) 'portwrap ctl SOCKET re'" "$tmp/out" +remove -- list
    b "portwrap ctl $sock add "
    expect "bash ($mode) 'portwrap ctl SOCKET add ': a forward, nothing offered" "$tmp/out" -- list --help ctl
    PATH=$tmp/bin:$PATH b "portwrap ctl $sock remove "
    expect "bash ($mode) 'portwrap ctl SOCKET remove ': the forwards list prints" "$tmp/out" "=$tmp/forwards"
    # bash replaces only the part after the last ':' (a word break): that part is offered.
    PATH=$tmp/bin:$PATH b "portwrap ctl $sock remove 127.0.0.1:4012"
    expect "bash ($mode) 'portwrap ctl SOCKET remove 127.0.0.1:4012'" "$tmp/out" +40123:8888/tcp +40125:53/udp \
        -- '[::1]:40124:8888/tcp' 40124:8888/tcp 127.0.0.1:40123:8888/tcp
    PATH=$tmp/bin:$PATH b "portwrap ctl $tmp/run/other.sock remove "
    expect "bash ($mode) 'portwrap ctl OTHER remove ': nothing listed there, nothing offered" "$tmp/out" \
        -- 127.0.0.1:40123:8888/tcp
    if [[ $mode == full ]]; then
        b 'portwrap -p 9876 -P 8888 -- ls --al'
        expect "bash (full) 'portwrap ... -- ls --al': ls's own options" "$tmp/out" +--all -- --host-addr
        b 'portwrap -p 9876 -P 8888 env --i'
        expect "bash (full) 'portwrap ... env --i': env's own options" "$tmp/out" +--ignore-environment -- --help
    fi
done

# ---------------------------------------------------------------- fish
if command -v fish >/dev/null; then
    f() {
        (cd "$tmp/empty" && HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config timeout 30 \
            fish -c 'source $argv[1]; complete -C $argv[2]' "$completions/portwrap.fish" "$1") 2>"$tmp/err" |
            cut -f1 >"$tmp/out" || fail "fish '$1': $(head -n 3 "$tmp/err")"
    }
    f 'portwrap --h'
    expect "fish 'portwrap --h'" "$tmp/out" +--help +--host-port +--host-addr -- --version
    f 'portwrap -'
    expect "fish 'portwrap -': every option of --help" "$tmp/out" "=$all_options"
    f 'portwrap --host-addr='
    expect "fish 'portwrap --host-addr='" "$tmp/out" +--host-addr=127.0.0.1 +--host-addr=0.0.0.0
    f 'portwrap -p 9876 -P 8888 ech'
    expect "fish 'portwrap -p 9876 -P 8888 ech': commands" "$tmp/out" +echo
    f 'portwrap -p 9876 -P 8888 true --h'
    expect "fish after COMMAND 'true': no portwrap option" "$tmp/out" -- --help --host-port --host-addr
    f 'portwrap -vp 9876 -P 8888 ech'
    expect "fish 'portwrap -vp 9876 -P 8888 ech': commands" "$tmp/out" +echo
    f 'portwrap --host-p 9876 --guest-p 8888 ech'
    expect "fish 'portwrap --host-p 9876 --guest-p 8888 ech': commands" "$tmp/out" +echo
    f 'portwrap -vp9876 -P 8888 true --h'
    expect "fish after 'portwrap -vp9876 -P 8888 true': no portwrap option" "$tmp/out" -- --help --host-port
    f 'portwrap -p 9876 -P 8888 -- ls --al'
    expect "fish 'portwrap ... -- ls --al': ls's own options" "$tmp/out" +--all -- --host-addr
    f 'portwrap --ch'
    expect "fish 'portwrap --ch'" "$tmp/out" +--check
    f 'portwrap ct'
    expect "fish 'portwrap ct'" "$tmp/out" +ctl
    f "portwrap ctl $tmp/run/j"
    expect "fish 'portwrap ctl DIR/j': the socket path" "$tmp/out" "+$sock"
    f "portwrap ctl $sock "
    printf '%s\n' add list remove >"$tmp/verbs"
    expect "fish 'portwrap ctl SOCKET ': the verbs" "$tmp/out" "=$tmp/verbs"
    f "portwrap ctl $sock add "
    expect "fish 'portwrap ctl SOCKET add ': a forward, nothing offered" "$tmp/out" -- list --help ctl
    PATH=$tmp/bin:$PATH f "portwrap ctl $sock remove "
    expect "fish 'portwrap ctl SOCKET remove ': the forwards list prints" "$tmp/out" "=$tmp/forwards"
    PATH=$tmp/bin:$PATH f "portwrap ctl $sock list "
    expect "fish 'portwrap ctl SOCKET list ': nothing offered" "$tmp/out" -- 127.0.0.1:40123:8888/tcp
else
    fail "fish is not installed (scripts/install-deps.sh installs it)"
fi

# ---------------------------------------------------------------- zsh
# zsh completes only in its line editor: drive an interactive zsh on a pty (zpty),
# type LINE and TAB, and read the listing it prints. All reads have deadlines.
if command -v zsh >/dev/null; then
    cat >"$tmp/drive.zsh" <<'EOF'
zmodload zsh/zpty || exit 3
zmodload zsh/datetime || exit 3
fdir=$1 line=$2
zpty -b z 'zsh -f -i' || exit 3
# read_until PATTERN SECONDS: collects the pty's output until PATTERN shows up.
read_until() {
    local chunk end=$((EPOCHREALTIME + $2))
    all=
    while (( EPOCHREALTIME < end )); do
        if zpty -r -t z chunk; then
            all+=$chunk
            [[ $all == *$~1* ]] && return 0
        else
            zselect -t 5 2>/dev/null || sleep 0.05
        fi
    done
    return 1
}
zmodload zsh/zselect 2>/dev/null
zpty -w z "PS1='> '; unsetopt beep; fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D; LISTMAX=0; zstyle ':completion:*' list-separator '--'; print ZSH-\$((20+22))"
read_until 'ZSH-42' 20 || { print "no prompt: $all"; exit 4; }
zpty -w -n z "$line"$'\t'
# Then: kill the line (Ctrl-U) and print a marker, so we know the listing is complete.
zpty -w -n z $'\x15'"print DONE-\$((40+2))"$'\r'
read_until 'DONE-42' 20 || { print "no marker: $all"; exit 4; }
print -r -- "$all"
zpty -d z
EOF
    z() {
        (cd "$tmp/empty" && HOME=$tmp/home timeout 60 zsh -f "$tmp/drive.zsh" "$completions" "$1") >"$tmp/raw" 2>"$tmp/err" ||
            fail "zsh '$1': exit $?: $(head -c 300 "$tmp/raw") $(head -n 3 "$tmp/err")"
        # The candidates: words at the start of each listing line (after escape codes).
        sed -E 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\r//g' "$tmp/raw" | grep -oE '(^| )--?[[:alnum:]][[:alnum:]-]*' |
            tr -d ' ' | sort -u >"$tmp/out"
    }
    z 'portwrap --h'
    expect "zsh 'portwrap --h'" "$tmp/out" +--help +--host-port +--host-addr -- --version
    z 'portwrap --ch'
    expect "zsh 'portwrap --ch'" "$tmp/out" +--check
    # zsh_words: every word of the listing (and of the line typed), for non-options.
    zsh_words() { sed -E 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\r//g' "$tmp/raw" | grep -oE '[[:alnum:]_./-]+' | sort -u >"$tmp/out"; }
    z 'portwrap ct'
    zsh_words
    expect "zsh 'portwrap ct'" "$tmp/out" +ctl
    z "portwrap ctl $tmp/run/j"
    zsh_words
    expect "zsh 'portwrap ctl DIR/j': the socket path" "$tmp/out" "+$sock"
    z "portwrap ctl $sock "
    zsh_words
    expect "zsh 'portwrap ctl SOCKET ': the verbs" "$tmp/out" +list +add +remove -- --help
    PATH=$tmp/bin:$PATH z "portwrap ctl $sock remove "
    zsh_words
    expect "zsh 'portwrap ctl SOCKET remove ': the forwards list prints" "$tmp/out" +40123 +40124 +40125 "+$tmp/run/web.sock"
    PATH=$tmp/bin:$PATH z "portwrap ctl $sock add "
    zsh_words
    expect "zsh 'portwrap ctl SOCKET add ': no forward offered" "$tmp/out" -- 40123 40124
    z 'portwrap -p 9876 -P 8888 true --h'
    expect "zsh after COMMAND 'true': no portwrap option" "$tmp/out" -- --help --host-port --host-addr
    z 'portwrap -vp 9876 -P 8888 true --h'
    expect "zsh after 'portwrap -vp 9876 -P 8888 true': no portwrap option" "$tmp/out" -- --help --host-port --host-addr
    z 'portwrap -vp 9876 -P 8888 ls --al'
    expect "zsh 'portwrap -vp 9876 -P 8888 ls --al': ls's own options" "$tmp/out" +--all -- --host-addr
    z 'portwrap --host-p 9876 --guest-p 8888 ls --al'
    expect "zsh 'portwrap --host-p 9876 --guest-p 8888 ls --al': ls's own options" "$tmp/out" +--all -- --host-addr
    z 'portwrap -p 9876 -P 8888 ls --al'
    expect "zsh 'portwrap ... ls --al': ls's own options" "$tmp/out" +--all -- --host-addr
else
    fail "zsh is not installed (scripts/install-deps.sh installs it)"
fi

if ((failures)); then
    echo "completion: $failures failure(s)"
    exit 1
fi
echo "completion: all checks passed"
