# fish completion for portwrap(1). Installed as
# share/fish/vendor_completions.d/portwrap.fish.
# Before COMMAND: portwrap's options; from COMMAND on: COMMAND's own completion.

# Whether WORD, one of portwrap's options, takes the next word as its value. As
# getopt_long reads them: a group of short options does when it ends in the first
# letter that takes a value (-p, -vp, -T); a long option may be any prefix that names
# only it (--host-a is --host-addr).
function __portwrap_takes_value -a word
    string match -qr -- '^-([^-pPT][^pPT]*)?[pPT]$' $word; and return 0
    string match -qr -- '^--[^=]+$' $word; or return 1
    set -l with_value host-port guest-port to-host host-addr port-file print-url ready-fd control-socket port-driver max-connections dns stop-grace leftover-grace
    set -l flags jupyterhub allow-host-loopback map-root pid-ns no-forward-signals verbose help version check
    set -l name (string sub -s 3 -- $word)
    contains -- $name $with_value; and return 0
    contains -- $name $flags; and return 1
    set -l matches
    for option in $with_value $flags
        test (string sub -l (string length -- $name) -- $option) = $name; and set -a matches $option
    end
    test (count $matches) -eq 1; and contains -- $matches[1] $with_value
end

# Prints where the word being completed is: 'options' (portwrap's options, or the
# command's name), 'value' (the value of an option such as -p), or 'command N' (an
# argument of COMMAND, whose name is the Nth word after "portwrap").
function __portwrap_where
    set -l words (commandline -opc)
    set -e words[1]
    set -l expect_value 0
    for i in (seq (count $words))
        set -l word $words[$i]
        if test $expect_value = 1
            set expect_value 0
            continue
        end
        switch $word
            case --
                echo command (math $i + 1)
                return
            case '-*'
                __portwrap_takes_value $word; and set expect_value 1
            case '*'
                echo command $i
                return
        end
    end
    if test $expect_value = 1
        echo value
    else
        echo options
    end
end

function __portwrap_state
    string split -f1 ' ' -- (__portwrap_where)
end

# Prints COMMAND's words up to the one being completed, one a line (only that one
# while COMMAND's name is being typed), for __fish_complete_subcommand.
function __portwrap_command
    set -l where (string split ' ' -- (__portwrap_where))
    set -l words (commandline -opc)
    set -e words[1]
    if test "$where[1]" = command
        for word in $words[$where[2]..-1]
            printf '%s\n' $word
        end
    end
    printf '%s\n' (commandline -ct)
end

# "portwrap ctl SOCKET VERB ...": prints how many words follow "ctl" before the one
# being completed (0: the socket, 1: the verb); fails when the first word is not ctl.
function __portwrap_ctl_at
    set -l words (commandline -opc)
    test (count $words) -ge 2; and test "$words[2]" = ctl; or return 1
    set -l at (math (count $words) - 2)
    test -z "$argv[1]"; or test $at = $argv[1]
end

# "portwrap ctl SOCKET remove ...": true when the verb is remove.
function __portwrap_ctl_removing
    set -l words (commandline -opc)
    test "$words[4]" = remove
end

# The forwards "portwrap ctl SOCKET list" prints, one a line, for remove.
function __portwrap_ctl_forwards
    set -l words (commandline -opc)
    set -l socket (string replace -r '^~/' "$HOME/" -- $words[3])
    timeout 5 $words[1] ctl $socket list 2>/dev/null
end

set -l in_options 'test (__portwrap_state) != command'
complete -c portwrap -f -n $in_options -s p -l host-port -x -d 'a forward: HOST_PORT, HOST_PORT:GUEST_PORT[/udp] or unix:PATH:GUEST_PORT'
complete -c portwrap -f -n $in_options -s P -l guest-port -x -d 'port inside the namespace for a single -p HOST_PORT'
complete -c portwrap -f -n $in_options -s T -l to-host -x -d "one TCP port of the host's loopback, reachable inside: [GUEST_ADDR:]GUEST_PORT[:HOST_PORT]"
complete -c portwrap -f -n $in_options -l jupyterhub -d "JupyterHub's single-user server: forwards from the spawner's environment"
complete -c portwrap -f -n $in_options -l host-addr -x -a '127.0.0.1 0.0.0.0 ::1 ::' -d 'host address for forwards that name none'
complete -c portwrap -n $in_options -l port-file -r -F -d 'write the host side of each forward to FILE'
complete -c portwrap -f -n $in_options -l print-url -x -d 'once listening, print TEMPLATE with {host} and {port} filled in'
complete -c portwrap -n $in_options -l control-socket -r -F -d 'listen for portwrap ctl on an owner-only Unix socket'
complete -c portwrap -f -n $in_options -l ready-fd -x -d 'when the forwards reach a server, write their host sides to FD'
complete -c portwrap -f -n $in_options -l port-driver -x -a 'auto handoff relay slirp' -d 'how the port is forwarded'
complete -c portwrap -f -n $in_options -l max-connections -x -d 'connections each relayed TCP forward keeps open at once (default 256, 0: no limit)'
complete -c portwrap -f -n $in_options -l dns -x -a '10.0.2.3' -d 'a nameserver for COMMAND (repeatable)'
complete -c portwrap -f -n $in_options -l allow-host-loopback -d "let COMMAND reach the host's 127.0.0.1 through 10.0.2.2"
complete -c portwrap -f -n $in_options -l map-root -d 'run COMMAND as uid/gid 0 inside the namespace'
complete -c portwrap -f -n $in_options -l pid-ns -d 'run COMMAND in a new PID namespace under a minimal init'
complete -c portwrap -f -n $in_options -l stop-grace -x -d 'seconds COMMAND has after a stop request before SIGKILL (default 10)'
complete -c portwrap -f -n $in_options -l leftover-grace -x -d 'seconds leftovers have between SIGTERM and SIGKILL (default 2)'
complete -c portwrap -f -n $in_options -l no-forward-signals -d 'do not pass on signals sent to every process of the job'
complete -c portwrap -f -n $in_options -s v -l verbose -d 'print start-up diagnostics on stderr'
complete -c portwrap -f -n $in_options -s h -l help -d 'show the help and exit'
complete -c portwrap -f -n $in_options -l version -d 'show version information and exit'
complete -c portwrap -f -n $in_options -l check -d 'check whether portwrap can run here, and exit'
# A request to a running portwrap: ctl as the first word, its socket, its verb.
complete -c portwrap -f -n 'test (count (commandline -opc)) = 1' -a ctl -d 'ask a running portwrap (--control-socket) to list, add or remove forwards'
complete -c portwrap -n '__portwrap_ctl_at 0' -F -d 'the --control-socket of a running portwrap'
complete -c portwrap -f -n '__portwrap_ctl_at 1' -a list -d 'list the forwards'
complete -c portwrap -f -n '__portwrap_ctl_at 1' -a add -d 'add a forward: [ADDR:]HOST_PORT:GUEST_PORT[/udp]'
complete -c portwrap -f -n '__portwrap_ctl_at 1' -a remove -d 'remove a forward, as list shows it'
complete -c portwrap -f -n '__portwrap_ctl_at 2; and __portwrap_ctl_removing' -a '(__portwrap_ctl_forwards)'
complete -c portwrap -f -n '__portwrap_ctl_at'
# COMMAND's name, then its own arguments, completed as for COMMAND itself.
complete -c portwrap -n 'not __portwrap_ctl_at; and test (__portwrap_state) != value' -x \
    -a '(__fish_complete_subcommand --commandline (__portwrap_command))'
