#!/usr/bin/env bash
# exit status: portwrap exits with the command's status (0, 3, 255), 128+N when the
# command is killed by signal N (TERM, KILL), 125 for its own errors (bad port, port
# in use), 126 for a command that is not executable, 127 for a missing command; each
# of its own errors is one 'portwrap: ' line on stderr.
source "$(dirname "$0")/lib.sh"
pw_init

for code in 0 3 255; do
    pw_run -p "$(free_port)" -P 8080 -- sh -c "exit $code"
    expect_status "sh -c 'exit $code'" "$code"
    expect_eq "stderr of a command that exits $code" "" "$(cat "$PW_ERR")"
done

pw_run -p "$(free_port)" -P 8080 -- true
expect_status "true" 0
pw_run -p "$(free_port)" -P 8080 -- false
expect_status "false" 1

pw_run -p "$(free_port)" -P 8080 -- sh -c 'kill -TERM $$'
expect_status "command killed by SIGTERM -> 128+15" 143
pw_run -p "$(free_port)" -P 8080 -- sh -c 'kill -KILL $$'
expect_status "command killed by SIGKILL -> 128+9" 137
pw_run -p "$(free_port)" -P 8080 -- sh -c 'kill -USR1 $$'
expect_status "command killed by SIGUSR1 -> 128+10" 138

# The command's output goes through unchanged.
pw_run -p "$(free_port)" -P 8080 -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
expect_status "command writing to stdout and stderr" 7
expect_eq "command's stdout" to-stdout "$(cat "$PW_OUT")"
expect_eq "command's stderr" to-stderr "$(cat "$PW_ERR")"

# 125: usage errors, naming the bad value; the command never runs.
marker=$PW_WORK/ran
# (-p 0 is valid: any free port.)
for bad in abc 0 65536 -1 99999999999 ''; do
    if [[ $bad != 0 ]]; then
        pw_run -p "$bad" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
        expect_status "-p '$bad'" 125
        expect_one_error_line "-p '$bad'" "host port" "'$bad'"
    fi
    pw_run -p "$(free_port)" -P "$bad" -- sh -c 'touch "$1"' sh "$marker"
    expect_status "-P '$bad'" 125
    expect_one_error_line "-P '$bad'" "guest port" "'$bad'"
done
pw_run --host-addr localhost -p "$(free_port)" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "--host-addr localhost (not numeric)" 125
expect_one_error_line "--host-addr localhost" "localhost"
pw_run -p "$(free_port)" -- sh -c 'touch "$1"' sh "$marker"
expect_status "missing -P" 125
expect_one_error_line "missing -P" "guest-port"
pw_run -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "missing -p" 125
expect_one_error_line "missing -p" "host-port"
pw_run -p "$(free_port)" -P 8080
expect_status "missing command" 125
expect_one_error_line "missing command" "command"
pw_run --no-such-option -p "$(free_port)" -P 8080 -- true
expect_status "unknown option" 125
expect_one_error_line "unknown option" "--no-such-option"
pw_run $'--bad\noption\e[2J' -p "$(free_port)" -P 8080 -- true
expect_status "unknown option with a newline and an escape in it" 125
expect_one_error_line "unknown option with a newline in it" "--bad?option?[2J"
check "the command never ran after usage errors" test ! -e "$marker"

# 125: host port in use.
held=$(free_port)
start_helper "$PW_TMP/hold.log" "$PY" "$PW_HELPER" hold 127.0.0.1 "$held" "$PW_TMP/hold.ready"
wait_until 10 test -e "$PW_TMP/hold.ready" || fail "could not hold port $held"
pw_run -p "$held" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "host port in use" 125
expect_one_error_line "host port in use" "in use" "127.0.0.1:$held"
check "the command never ran when the host port was in use" test ! -e "$marker"
stop_helpers
# Positive control: the same run once the port is free runs the command, which leaves
# the marker the checks above look for.
pw_run -p "$held" -P 8080 -- sh -c 'touch "$1"' sh "$marker"
expect_status "the same run with 127.0.0.1:$held free" 0
check "the command ran and left its marker once the port was free" test -e "$marker"
rm -f "$marker"

# 126: found but not executable.
printf '#!/bin/sh\necho should-not-run\n' >"$PW_WORK/not-executable"
chmod 0644 "$PW_WORK/not-executable"
chown "$PW_USER:" "$PW_WORK/not-executable"
pw_run -p "$(free_port)" -P 8080 -- ./not-executable
expect_status "./not-executable (mode 0644)" 126
expect_one_error_line "./not-executable" "Permission denied" "./not-executable"
pw_run -p "$(free_port)" -P 8080 -- "$PW_WORK/not-executable"
expect_status "absolute path to a mode 0644 file" 126
expect_one_error_line "absolute path to a mode 0644 file" "Permission denied" "$PW_WORK/not-executable"
pw_run -p "$(free_port)" -P 8080 -- "$PW_WORK"
expect_status "a directory as the command" 126
expect_one_error_line "a directory as the command" "$PW_WORK"

# 127: not found.
pw_run -p "$(free_port)" -P 8080 -- nosuchcmd-portwrap-test arg
expect_status "missing command 'nosuchcmd-portwrap-test'" 127
expect_one_error_line "missing command" "not found" "nosuchcmd-portwrap-test"
pw_run -p "$(free_port)" -P 8080 -- ./no-such-file
expect_status "missing command './no-such-file'" 127
expect_one_error_line "missing command './no-such-file'" "./no-such-file"

pw_finish
