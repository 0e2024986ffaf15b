#include "self_check_probe.h"

#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.h"
#include "file_text.h"
#include "handoff_filter.h"
#include "id_map.h"
#include "jupyterhub.h"
#include "launcher.h"
#include "log.h"
#include "start_failure.h"
#include "subid.h"

namespace portwrap::self_check {
namespace {

Sysctl read_sysctl(const char* path)
{
    auto text = file_text::read(path);
    if (!text)
        return std::nullopt;
    char* end = nullptr;
    long value = std::strtol(text->c_str(), &end, 10);
    if (end == text->c_str())
        return std::nullopt;
    return value;
}

TunFacts inspect_tun()
{
    TunFacts tun;
    struct stat st{};
    if (::stat("/dev/net/tun", &st) != 0) {
        tun.stat_errno = errno;
        return tun;
    }
    tun.char_device = S_ISCHR(st.st_mode);
    tun.major = major(st.st_rdev);
    tun.minor = minor(st.st_rdev);
    tun.mode = st.st_mode & 07777;
    return tun;
}

// A launch's start-up, in namespaces that are thrown away again: the launch's own
// code (Launcher::Probe) clones into new user and network namespaces, writes the maps
// as a launch would (newuidmap/newgidmap or the single-id map), creates and
// configures tap0 inside, and stops before anything a command needs.
ProbeResult probe_namespaces(const id_map::Plan& plan)
{
    ProbeResult result;
    result.ran = true;
    result.used_helpers = !plan.newuidmap.empty();
    try {
        Launcher launcher(Launcher::Probe{}, plan);
        const std::string proc = "/proc/" + std::to_string(launcher.child().pid()) + "/";
        result.uids_mapped = count_mapped_ids(file_text::read(proc + "uid_map").value_or(""));
        result.gids_mapped = count_mapped_ids(file_text::read(proc + "gid_map").value_or(""));
        result.uid_inside = launcher.uid_inside();
        result.gid_inside = launcher.gid_inside();
    } catch (const start::StartError& e) {
        result.failed_at = e.failure().stage;
        result.err = e.failure().err;
        result.error = start::message(e.failure());
    }
    return result;
}

}  // namespace

Facts gather_facts()
{
    Facts facts;
    utsname uts{};
    if (::uname(&uts) == 0) {
        facts.kernel_release = uts.release;
        facts.machine = uts.machine;
    }
    facts.elevated = ::getauxval(AT_SECURE) != 0;
    char exe[4096];
    ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length > 0)
        facts.exe_path.assign(exe, static_cast<size_t>(length));
    facts.uid = static_cast<uint32_t>(::getuid());
    facts.gid = static_cast<uint32_t>(::getgid());
    // The name as make_plan finds it: /etc/passwd as text (all of it, as make_plan
    // reads it), then $USER; never NSS.
    facts.user_name =
        subid::user_name_from_passwd(file_text::read("/etc/passwd", file_text::kNoLimit).value_or(""), facts.uid)
            .value_or("");
    if (facts.user_name.empty())
        if (const char* user = std::getenv("USER"))
            facts.user_name = user;

    facts.max_user_namespaces = read_sysctl("/proc/sys/user/max_user_namespaces");
    facts.unprivileged_userns_clone = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone");
    facts.apparmor_restrict_unprivileged_userns =
        read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");

    facts.subuid_text = file_text::read("/etc/subuid", file_text::kNoLimit);
    facts.subuid_errno = facts.subuid_text ? 0 : errno;
    facts.subgid_text = file_text::read("/etc/subgid", file_text::kNoLimit);
    facts.subgid_errno = facts.subgid_text ? 0 : errno;
    facts.newuidmap = id_map::find_helper("newuidmap", facts.uid);
    facts.newgidmap = id_map::find_helper("newgidmap", facts.uid);
    facts.tun = inspect_tun();

    // An elevated portwrap refuses to launch; it must not try the steps either.
    if (!facts.elevated)
        facts.probe = probe_namespaces(id_map::make_plan(false));
    facts.handoff_unavailable = handoff_filter::unsupported_reason();
    return facts;
}

int run()
{
    try {
        const Facts facts = gather_facts();
        std::vector<Item> items = assess(facts);
        // In a JupyterHub spawner's environment: what --jupyterhub would forward.
        if (auto hub = jupyterhub::check_item([](const char* name) { return static_cast<const char*>(::getenv(name)); }))
            items.push_back(*hub);
        std::string out;
        for (const Item& item : items)
            out += format_item(item) + "\n";
        out += summary_line(items, facts) + "\n";
        std::fputs(out.c_str(), stdout);
        if (std::fflush(stdout) != 0)
            return kExitSetupFailure;
        return exit_status(items);
    } catch (const std::exception& e) {
        log::error("--check: %s", e.what());
        return kExitSetupFailure;
    }
}

}  // namespace portwrap::self_check
