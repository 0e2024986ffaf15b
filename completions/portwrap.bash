# bash completion for portwrap(1)                                -*- shell-script -*-
#
# Installed as share/bash-completion/completions/portwrap; bash-completion loads it
# the first time "portwrap" is completed. It also works sourced on its own, without
# bash-completion (then the command's own arguments complete as file names).
#
# Before COMMAND: portwrap's options (and their values where there is a short list).
# From COMMAND on: whatever completes for COMMAND itself, as after "sudo" or "env".

# _portwrap_ctl_forwards PORTWRAP SOCKET WORD: sets COMPREPLY to the forwards that
# "PORTWRAP ctl SOCKET list" prints (one a line) and that start with WORD. Where ':'
# breaks words, bash replaces only the part of WORD after its last ':', so that part
# of WORD is cut from each.
_portwrap_ctl_forwards() {
    local portwrap=$1 socket=$2 word=$3 forward prefix=
    [[ $socket == '~/'* ]] && socket=$HOME/${socket#'~/'}
    [[ $COMP_WORDBREAKS == *:* && $word == *:* ]] && prefix=${word%"${word##*:}"}
    COMPREPLY=()
    while IFS= read -r forward; do
        [[ -n $forward && $forward == "$word"* ]] && COMPREPLY+=("${forward#"$prefix"}")
    done < <(timeout 5 "$portwrap" ctl "$socket" list 2>/dev/null)
}

# _portwrap_value_option WORD: sets value_option to the option whose value is the
# word after WORD (-p, -P, -T, or a long option in full), or to nothing, reading the
# caller's all_options and value_options. As getopt_long reads them: a group of
# short options takes the next word when it ends in the first letter that takes a
# value (-vp); a long option may be any prefix that names only it (--host-a is
# --host-addr).
_portwrap_value_option()
{
    local word=$1 name option
    local -a matches=()
    value_option=
    if [[ $word =~ ^-([^-pPT][^pPT]*)?([pPT])$ ]]; then
        value_option=-${BASH_REMATCH[2]}
    elif [[ $word == --?* && $word != *=* ]]; then
        name=${word#--}
        for option in $all_options; do
            [[ $option == --* ]] || continue
            option=${option#--}
            if [[ $option == "$name" ]]; then
                matches=("$option")
                break
            fi
            [[ $option == "$name"* ]] && matches+=("$option")
        done
        if ((${#matches[@]} == 1)) && [[ " $value_options " == *" --${matches[0]} "* ]]; then
            value_option=--${matches[0]}
        fi
    fi
}

_portwrap()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local value_options='-p --host-port -P --guest-port -T --to-host --host-addr --port-file --print-url --ready-fd --control-socket --port-driver --max-connections --dns --stop-grace --leftover-grace'
    local all_options='-p --host-port -P --guest-port -T --to-host --jupyterhub --host-addr --port-file --print-url --ready-fd --control-socket --port-driver --max-connections --dns
        --allow-host-loopback --map-root --pid-ns --stop-grace --leftover-grace --no-forward-signals
        -v --verbose -h --help --version --check'

    # "portwrap ctl SOCKET list|add FORWARD|remove FORWARD": a request to a running
    # portwrap. ctl counts only as the first word (anywhere else it is a command name).
    if ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[1]} == ctl ]]; then
        # remove FORWARD: the forwards that portwrap lists. The line is split on blanks
        # here: bash splits 127.0.0.1:40123:8888/tcp into words at each ':'.
        local -a typed
        read -ra typed <<<"${COMP_LINE:0:COMP_POINT}"
        [[ ${COMP_LINE:0:COMP_POINT} == *[[:blank:]] ]] && typed+=("")
        if ((${#typed[@]} == 5)) && [[ ${typed[3]} == remove ]]; then
            _portwrap_ctl_forwards "$1" "${typed[2]}" "${typed[4]}"
            return 0
        fi
        case $COMP_CWORD in
        2) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;  # the --control-socket PATH
        3) mapfile -t COMPREPLY < <(compgen -W 'list add remove' -- "$cur") ;;
        *) COMPREPLY=() ;;  # a FORWARD, as for -p
        esac
        return 0
    fi

    # Find where COMMAND starts. bash splits "--opt=value" into "--opt" "=" "value".
    local i=1 word command_at= value_option=
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            command_at=$((i + 1))
            break
        elif [[ $word == -?* ]]; then
            _portwrap_value_option "$word"
            if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
                i=$((i + 3))  # --opt = value
            elif [[ -n $value_option ]]; then
                i=$((i + 2))  # -p 9876, -vp 9876, --host-p 9876
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
        # "portwrap ctl": a request to a running portwrap, offered with the commands.
        local offer_ctl=0
        ((command_at == 1 && COMP_CWORD == 1)) && [[ ctl == "$cur"* ]] && offer_ctl=1
        if declare -F _command_offset >/dev/null; then
            _command_offset "$command_at"  # bash-completion: the command's own completion
        elif ((command_at == COMP_CWORD)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
        ((offer_ctl)) && COMPREPLY+=(ctl)
        return 0
    fi

    # A value: "--opt value", "--opt=value" (split as "--opt" "=" "value") or "--opt=".
    # The option is known by the name it resolves to (-vp is -p, --host-a --host-addr).
    local option=
    if [[ $cur == = ]]; then
        _portwrap_value_option "$prev"
        option=$value_option
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
        _portwrap_value_option "${COMP_WORDS[COMP_CWORD - 2]}"
        option=$value_option
    else
        _portwrap_value_option "$prev"
        [[ $cur != -* || $value_option == -[pP] ]] && option=$value_option
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
    -P | --guest-port | --ready-fd | --print-url | --max-connections)
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
