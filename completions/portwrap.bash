# bash completion for portwrap(1)                                -*- shell-script -*-
#
# Installed as share/bash-completion/completions/portwrap; bash-completion loads it
# the first time "portwrap" is completed. It also works sourced on its own, without
# bash-completion (then the command's own arguments complete as file names).
#
# Before COMMAND: portwrap's options (and their values where there is a short list).
# From COMMAND on: whatever completes for COMMAND itself, as after "sudo" or "env".

_portwrap()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local value_options='-p --host-port -P --guest-port --host-addr --port-file --print-url --ready-fd --control-socket --port-driver --dns'
    local all_options='-p --host-port -P --guest-port --host-addr --port-file --print-url --ready-fd --control-socket --port-driver --dns
        --allow-host-loopback --map-root --pid-ns -v --verbose -h --help --version --check'

    # Find where COMMAND starts. bash splits "--opt=value" into "--opt" "=" "value".
    local i=1 word command_at=
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            command_at=$((i + 1))
            break
        elif [[ $word == -* ]]; then
            if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
                i=$((i + 3))  # --opt = value
            elif [[ " $value_options " == *" $word "* ]]; then
                i=$((i + 2))  # -p 9876
            else
                i=$((i + 1))  # a flag, or -p9876
            fi
        else
            command_at=$i
            break
        fi
    done
    if [[ -z $command_at ]] && ((i == COMP_CWORD)) && [[ $cur != -* ]] &&
        [[ $cur != = ]] && [[ $prev != = ]]; then
        command_at=$COMP_CWORD  # completing the command's name itself
    fi

    if [[ -n $command_at ]] && ((command_at <= COMP_CWORD)); then
        if declare -F _command_offset >/dev/null; then
            _command_offset "$command_at"  # bash-completion: the command's own completion
        elif ((command_at == COMP_CWORD)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
        return 0
    fi

    # A value: "--opt value", "--opt=value" (split as "--opt" "=" "value") or "--opt=".
    local option=
    if [[ $cur == = ]]; then
        option=$prev
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
        option=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ " $value_options " == *" $prev "* ]] && [[ $cur != -* || $prev == -[pP] ]]; then
        option=$prev
    fi
    case $option in
    --dns)
        mapfile -t COMPREPLY < <(compgen -W '10.0.2.3' -- "$cur")
        return 0
        ;;
    --host-addr)
        mapfile -t COMPREPLY < <(compgen -W '127.0.0.1 0.0.0.0 ::1 ::' -- "$cur")
        return 0
        ;;
    --port-file | --control-socket)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
        ;;
    --port-driver)
        mapfile -t COMPREPLY < <(compgen -W 'auto handoff relay slirp' -- "$cur")
        return 0
        ;;
    -p | --host-port)
        # A port number, or unix:PATH: offer the prefix, then paths after it.
        if [[ $cur == unix:* ]]; then
            mapfile -t COMPREPLY < <(compgen -P unix: -f -- "${cur#unix:}")
        else
            mapfile -t COMPREPLY < <(compgen -W 'unix:' -- "$cur")
        fi
        compopt -o nospace 2>/dev/null
        return 0
        ;;
    -P | --guest-port | --ready-fd | --print-url)
        COMPREPLY=()  # a number: nothing to offer
        return 0
        ;;
    esac

    # shellcheck disable=SC2086  # the option list is split on purpose
    mapfile -t COMPREPLY < <(compgen -W "$all_options" -- "$cur")
    # Options that take a value: no space after "--opt=".
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == --* ]] &&
        [[ " $value_options " == *" ${COMPREPLY[0]} "* ]]; then
        COMPREPLY=("${COMPREPLY[0]}=")
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -F _portwrap portwrap
