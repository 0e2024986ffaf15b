# fish completion for portwrap(1). Installed as
# share/fish/vendor_completions.d/portwrap.fish.
# Before COMMAND: portwrap's options; from COMMAND on: COMMAND's own completion.

# Prints where the word being completed is: 'options' (portwrap's options, or the
# command's name), 'value' (the value of an option such as -p), or 'command' (an
# argument of COMMAND).
function __portwrap_state
    set -l words (commandline -opc)
    set -e words[1]
    set -l expect_value 0
    for word in $words
        if test $expect_value = 1
            set expect_value 0
            continue
        end
        switch $word
            case --
                echo command
                return
            case -p -P --host-port --guest-port --host-addr --port-file --print-url --ready-fd --control-socket --port-driver --dns
                set expect_value 1
            case '-*'
            case '*'
                echo command
                return
        end
    end
    if test $expect_value = 1
        echo value
    else
        echo options
    end
end

set -l in_options 'test (__portwrap_state) != command'
complete -c portwrap -f -n $in_options -s p -l host-port -x -d 'a forward: HOST_PORT, HOST_PORT:GUEST_PORT[/udp] or unix:PATH:GUEST_PORT'
complete -c portwrap -f -n $in_options -s P -l guest-port -x -d 'port inside the namespace for a single -p HOST_PORT'
complete -c portwrap -f -n $in_options -l host-addr -x -a '127.0.0.1 0.0.0.0 ::1 ::' -d 'host address for forwards that name none'
complete -c portwrap -n $in_options -l port-file -r -F -d 'write the host side of each forward to FILE'
complete -c portwrap -f -n $in_options -l print-url -x -d 'once listening, print TEMPLATE with {host} and {port} filled in'
complete -c portwrap -n $in_options -l control-socket -r -F -d 'listen for portwrap ctl on an owner-only Unix socket'
complete -c portwrap -f -n $in_options -l ready-fd -x -d 'when the forwards reach a server, write their host sides to FD'
complete -c portwrap -f -n $in_options -l port-driver -x -a 'auto handoff relay slirp' -d 'how the port is forwarded'
complete -c portwrap -f -n $in_options -l dns -x -a '10.0.2.3' -d 'a nameserver for COMMAND (repeatable)'
complete -c portwrap -f -n $in_options -l allow-host-loopback -d "let COMMAND reach the host's 127.0.0.1 through 10.0.2.2"
complete -c portwrap -f -n $in_options -l map-root -d 'run COMMAND as uid/gid 0 inside the namespace'
complete -c portwrap -f -n $in_options -l pid-ns -d 'run COMMAND in a new PID namespace under a minimal init'
complete -c portwrap -f -n $in_options -s v -l verbose -d 'print start-up diagnostics on stderr'
complete -c portwrap -f -n $in_options -s h -l help -d 'show the help and exit'
complete -c portwrap -f -n $in_options -l version -d 'show version information and exit'
complete -c portwrap -f -n $in_options -l check -d 'check whether portwrap can run here, and exit'
# COMMAND's name, then its own arguments, completed as for COMMAND itself.
complete -c portwrap -n 'test (__portwrap_state) != value' -x \
    -a '(__fish_complete_subcommand -p -P --host-port --guest-port --host-addr --port-file --print-url --ready-fd --control-socket --port-driver --dns)'
