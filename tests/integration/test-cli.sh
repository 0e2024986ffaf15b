#!/usr/bin/env bash
# cli: --help and -h print the usage on stdout and exit 0 (even with other options);
# --version prints 'portwrap <version>' and exits 0; with no arguments portwrap fails
# with one usage line (125); -v/--verbose prints diagnostics on stderr, every line
# prefixed 'portwrap: ', and still runs the command with its exit status. Options
# are read as getopt_long reads them: grouped short options (-vp PORT) and shortened
# long ones (--host-p) run the command, whose own options reach it untouched; an
# ambiguous or unknown option is one usage line (125) and the command never runs.
source "$(dirname "$0")/lib.sh"
pw_init

for opt in --help -h; do
    pw_run "$opt"
    expect_status "portwrap $opt" 0
    check "portwrap $opt prints 'Usage: portwrap' on stdout" grep -q '^Usage: portwrap' "$PW_OUT"
    for word in --host-port --guest-port --host-addr --allow-host-loopback --map-root --verbose --version '{guest-port}'; do
        grep -qF -- "$word" "$PW_OUT" || fail_later "portwrap $opt does not mention $word"
    done
    expect_eq "portwrap $opt stderr" "" "$(cat "$PW_ERR")"
done
pw_run -p 1 -P 2 --help
expect_status "portwrap -p 1 -P 2 --help" 0

pw_run --version
expect_status "portwrap --version" 0
check "portwrap --version prints 'portwrap <version>'" grep -qE '^portwrap [0-9]+\.[0-9]+' "$PW_OUT"

pw_run
expect_status "portwrap with no arguments" 125
expect_one_error_line "portwrap with no arguments" "portwrap: "

# --verbose: diagnostics on stderr, each line 'portwrap: ...'; the command still runs.
for opt in -v --verbose; do
    pw_run "$opt" -p "$(free_port)" -P 8080 -- sh -c 'echo inside; exit 4'
    expect_status "portwrap $opt ... sh -c 'echo inside; exit 4'" 4
    expect_eq "stdout with $opt" inside "$(cat "$PW_OUT")"
    if [[ -s $PW_ERR ]] && ! grep -qv '^portwrap: ' "$PW_ERR"; then
        pass "$opt: $(stderr_lines "$PW_ERR") diagnostic lines on stderr, all prefixed 'portwrap: '"
    else
        fail_later "$opt: expected diagnostics on stderr, every line starting 'portwrap: '"
        show_file "stderr" "$PW_ERR"
    fi
done

# Without --verbose, a successful run prints nothing of its own.
pw_run -p "$(free_port)" -P 8080 -- true
expect_status "portwrap ... true" 0
expect_eq "stderr without --verbose" "" "$(cat "$PW_ERR")"
expect_eq "stdout without --verbose" "" "$(cat "$PW_OUT")"

# getopt_long's conventions: grouped short options, shortened long options; the
# command's own options (here sh's -c and the words after it) are left alone.
pw_run -vp "$(free_port)" -P8080 sh -c 'echo "$*"; exit 5' sh -l --color -p 1 -- --help
expect_status "portwrap -vp PORT -P8080 sh -c ... -l --color -p 1 -- --help" 5
expect_eq "the command's own options, passed through" "-l --color -p 1 -- --help" "$(cat "$PW_OUT")"
check "-vp: -v counted (diagnostics on stderr)" grep -q '^portwrap: ' "$PW_ERR"
pw_run --host-p "$(free_port)" --guest-p=8080 -- sh -c 'echo shortened'
expect_status "portwrap --host-p PORT --guest-p=8080 -- sh -c ..." 0
expect_eq "stdout with shortened long options" shortened "$(cat "$PW_OUT")"
marker=$PW_WORK/ran  # where the command, run as the test's user, can write
pw_run --ver -p "$(free_port)" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "portwrap --ver (ambiguous)" 125
expect_one_error_line "portwrap --ver" "ambiguous option '--ver'" "--verbose" "--version" "(see 'portwrap --help')"
pw_run -vx -p "$(free_port)" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "portwrap -vx (unknown letter in a group)" 125
expect_one_error_line "portwrap -vx" "unknown option '-x' in '-vx'"
pw_run -p "$(free_port)" -P
expect_status "portwrap -p PORT -P (no value)" 125
expect_one_error_line "portwrap -p PORT -P" "option -P/--guest-port needs a value"
check "the command never ran after these usage errors" test ! -e "$marker"
# Positive control: with valid options the same command runs and leaves the marker.
pw_run -p "$(free_port)" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "the marker command with valid options" 0
check "the marker command leaves its marker when it runs" test -e "$marker"
rm -f "$marker"

# stdin reaches the command.
echo from-stdin >"$PW_TMP/stdin.txt"
PW_STDIN=$PW_TMP/stdin.txt pw_run -p "$(free_port)" -P 8080 -- cat
expect_status "portwrap ... cat" 0
expect_eq "stdin passed to the command" from-stdin "$(cat "$PW_OUT")"

pw_finish
