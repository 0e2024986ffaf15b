#!/usr/bin/env bash
# template: every literal {guest-port} in the command's words becomes GUEST_PORT
# (several in one word, in several words, in the command word's arguments and in
# env assignments); look-alikes stay as they are; the command's own options pass
# through untouched, with or without '--'.
source "$(dirname "$0")/lib.sh"
pw_init

gp=4321

# run_case WHAT EXPECTED_STDOUT PORTWRAP_ARGS...
run_case() {
    local what=$1 expected=$2
    shift 2
    pw_run "$@"
    if [[ $PW_STATUS == 0 && $(cat "$PW_OUT") == "$expected" ]]; then
        pass "$what"
    else
        fail_later "$what: expected exit 0 and stdout:"$'\n'"$expected"$'\n'"got exit $PW_STATUS and stdout:"$'\n'"$(cat "$PW_OUT")"
        show_file "stderr" "$PW_ERR"
    fi
}

run_case "several {guest-port} in one argument and in several arguments" \
    "a${gp}b ${gp}" \
    -p "$(free_port)" -P "$gp" -- sh -c 'echo a{guest-port}b {guest-port}' x

run_case "{guest-port} in \$0, in option values, twice in a row, alone" \
    "$(printf '%s\n' "$gp" "--port=$gp" "$gp$gp" "http://10.0.2.100:$gp/{x}" "$gp")" \
    -p "$(free_port)" -P "$gp" -- sh -c 'printf "%s\n" "$0" "$@"' '{guest-port}' '--port={guest-port}' \
    '{guest-port}{guest-port}' 'http://10.0.2.100:{guest-port}/{x}' '{guest-port}'

run_case "look-alikes are not replaced" \
    "$(printf '%s\n' '{guest_port}' '{guest-port' 'guest-port}' '{GUEST-PORT}' '{ guest-port }' '{guest-port-}')" \
    -p "$(free_port)" -P "$gp" -- printf '%s\n' '{guest_port}' '{guest-port' 'guest-port}' '{GUEST-PORT}' \
    '{ guest-port }' '{guest-port-}'

run_case "a literal inside braces is replaced: {{guest-port}} -> {$gp}" \
    "{$gp}" \
    -p "$(free_port)" -P "$gp" -- printf '%s\n' '{{guest-port}}'

run_case "through env assignments: env X={guest-port}" \
    "X=$gp" \
    -p "$(free_port)" -P "$gp" -- env 'X={guest-port}' sh -c 'echo "X=$X"'

run_case "the guest port from --guest-port=N and -PN forms" \
    "port 5555" \
    -p "$(free_port)" --guest-port=5555 -- sh -c 'echo port {guest-port}'
run_case "-PN (attached value)" \
    "port 5556" \
    -p "$(free_port)" -P5556 sh -c 'echo port {guest-port}'

run_case "options after the command word pass through untouched" \
    "-v --port=1 -p 5 -P 6 --help --version -- --map-root" \
    -p "$(free_port)" -P "$gp" sh -c 'echo "$@"' sh -v --port=1 -p 5 -P 6 --help --version -- --map-root

run_case "options after '--' pass through untouched" \
    "-v --verbose -h" \
    -p "$(free_port)" -P "$gp" -- sh -c 'echo "$@"' sh -v --verbose -h

# A command named like an option, found in PATH, runs when it follows '--'.
printf '#!/bin/sh\necho "dash-command ran with $*"\n' >"$PW_TMP/bin/-dash-command"
chmod 0755 "$PW_TMP/bin/-dash-command"
PW_PATH=$PW_TMP/bin:$PW_STD_PATH run_case "a command word that looks like an option, after '--'" \
    "dash-command ran with $gp -x" \
    -p "$(free_port)" -P "$gp" -- -dash-command '{guest-port}' -x

pw_finish
