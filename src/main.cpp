// portwrap: run a command in its own user and network namespace, with host ports
// forwarded in (by portwrap's relay or by the in-process libslirp). main() refuses an
// elevated copy, parses the arguments, dispatches the mode, and hands a run to the
// session (session.h); any failure becomes one line on stderr and an exit status.
#include <sys/auxv.h>

#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "cli.h"
#include "control_client.h"
#include "error.h"
#include "log.h"
#include "self_check_probe.h"
#include "session.h"

namespace {

using namespace portwrap;

// portwrap is built to run with the user's own privileges. Installed setuid, setgid
// or with file capabilities it would create namespaces, write id maps, and connect to
// sockets (`ctl`) with powers the user does not have. So before anything else — before
// the arguments are read, for every mode, --help and --version included — a copy that
// the kernel started with elevated privileges (AT_SECURE) refuses to run.
bool refuse_elevated_privileges()
{
    if (::getauxval(AT_SECURE) == 0)
        return false;
    log::error("refusing to run with elevated privileges (setuid, setgid or file capabilities): "
               "install portwrap as a plain executable (chmod 0755, no setcap)");
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    if (refuse_elevated_privileges())
        return kExitSetupFailure;
    const cli::ParseResult parsed = cli::parse(std::vector<std::string>(argv + 1, argv + argc));
    if (const auto* usage = std::get_if<cli::UsageError>(&parsed)) {
        log::error("%s (see 'portwrap --help')", usage->message.c_str());
        return kExitSetupFailure;
    }
    if (std::holds_alternative<cli::ShowHelp>(parsed)) {
        std::fputs(cli::help_text().c_str(), stdout);
        return std::fflush(stdout) == 0 ? 0 : kExitSetupFailure;
    }
    if (std::holds_alternative<cli::ShowVersion>(parsed)) {
        std::fputs(cli::version_text().c_str(), stdout);
        return std::fflush(stdout) == 0 ? 0 : kExitSetupFailure;
    }
    if (const auto* ctl = std::get_if<cli::RunCtl>(&parsed))
        return control_client::run(ctl->args);
    if (std::holds_alternative<cli::RunCheck>(parsed))
        return self_check::run();
    try {
        return session::run(std::get<cli::Options>(parsed));
    } catch (const Error& e) {
        log::error("%s", e.what());
        return e.exit_status();
    } catch (const std::exception& e) {
        log::error("internal error: %s", e.what());
        return kExitSetupFailure;
    }
}
