// How portwrap stops: the grace periods and whether signals are forwarded. Set from
// the command line (--stop-grace, --leftover-grace, --no-forward-signals); used by
// the event loop, the leftover sweep and the --pid-ns init. See docs/design.md,
// "Signals" and "Stopping under a batch scheduler".
#pragma once

namespace portwrap {

struct StopPolicy {
    // From a stop request (a forwarded SIGTERM, SIGINT, SIGHUP or SIGQUIT) to SIGKILL
    // for a command that has not exited.
    int command_grace_ms = 10'000;
    // From SIGTERM to SIGKILL for what the command left behind.
    int leftover_grace_ms = 2'000;
    // false (--no-forward-signals): whoever signals portwrap signals every process
    // of the job (Slurm, systemd's control-group kill), the command included, so
    // portwrap and the --pid-ns init forward nothing; a stop request still starts
    // the command's grace period.
    bool forward_signals = true;
};

}  // namespace portwrap
