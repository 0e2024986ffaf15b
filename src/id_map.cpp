#include "id_map.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "error.h"
#include "fd_pair.h"
#include "file_text.h"
#include "log.h"
#include "unique_fd.h"

extern char** environ;

namespace portwrap::id_map {
namespace {

// The whole file, or "" if it cannot be read (a missing /etc/subuid is no entry).
std::string read_text_file(const char* path)
{
    return file_text::read(path, file_text::kNoLimit).value_or("");
}

void write_proc_file(pid_t pid, const char* name, const std::string& text)
{
    std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("cannot open " + path);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw_errno("cannot write '" + text.substr(0, text.find('\n')) + "' to " + path);
}

struct RunningHelper {
    std::string helper;
    pid_t pid = -1;
    UniqueFd output;  // the read end of its stdout and stderr
};

// Starts helper with args, its output going to a pipe; throws Error if it cannot.
RunningHelper start_helper(const std::string& helper, pid_t pid, const std::vector<std::string>& map_args)
{
    std::vector<std::string> args{helper, std::to_string(pid)};
    args.insert(args.end(), map_args.begin(), map_args.end());
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);

    std::string command_line;
    for (const auto& arg : args)
        command_line += (command_line.empty() ? "" : " ") + arg;
    log::info("running %s", command_line.c_str());

    auto [read_end, write_end] = make_pipe(O_CLOEXEC);
    if (!read_end)
        throw_errno("cannot create a pipe for " + helper);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
    // The helper must not inherit portwrap's blocked signal mask.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    pid_t helper_pid;
    int err = posix_spawn(&helper_pid, helper.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (err != 0)
        throw_errno("cannot run " + helper, err);
    return RunningHelper{helper, helper_pid, std::move(read_end)};
}

// Waits for a started helper, capturing what it prints. Returns "" when it succeeded,
// else the error line.
std::string finish_helper(RunningHelper& running)
{
    const std::string& helper = running.helper;
    const pid_t helper_pid = running.pid;
    UniqueFd& read_end = running.output;
    std::string output;
    char buffer[1024];
    for (;;) {
        ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (output.size() < 4096)
            output.append(buffer, static_cast<size_t>(got));
    }
    int status = 0;
    while (::waitpid(helper_pid, &status, 0) < 0) {
        if (errno != EINTR)
            return describe_errno("waitpid(" + helper + ")", errno);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};

    // One line: the helper's own words, newlines folded.
    while (!output.empty() && (output.back() == '\n' || output.back() == ' '))
        output.pop_back();
    for (char& c : output)
        if (c == '\n')
            c = ' ';
    std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "killed by signal " + std::to_string(WTERMSIG(status));
    return helper + " failed (" + how + ")" + (output.empty() ? "" : ": " + output);
}

}  // namespace

HelperFacts inspect_helper(const std::string& path)
{
    HelperFacts helper;
    helper.path = path;
    if (path.empty())
        return helper;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        helper.setuid_root = (st.st_mode & S_ISUID) && st.st_uid == 0;
        helper.root_owned = S_ISREG(st.st_mode) && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
    }
    helper.file_capabilities = ::getxattr(path.c_str(), "security.capability", nullptr, 0) > 0;
    struct statvfs fs {};
    helper.nosuid_mount = ::statvfs(path.c_str(), &fs) == 0 && (fs.f_flag & ST_NOSUID);
    return helper;
}

HelperFacts find_helper(const std::string& name, uid_t uid, std::span<const char* const> directories)
{
    HelperFacts first_present;
    for (const char* directory : directories) {
        const std::string candidate = std::string(directory) + "/" + name;
        if (::access(candidate.c_str(), F_OK) != 0)
            continue;
        HelperFacts helper = inspect_helper(candidate);
        if (helper_problem(helper, uid).empty())
            return helper;
        if (first_present.path.empty())
            first_present = helper;
    }
    return first_present;
}

std::string helper_problem(const HelperFacts& helper, uid_t uid)
{
    if (helper.path.empty())
        return std::string("not found in ") + kHelperDirectoriesText;
    if (!helper.root_owned)
        return "is not a regular file owned by root and writable by root alone";
    if (uid == 0)
        return {};  // root needs no raised privileges to write the maps
    if (!helper.setuid_root && !helper.file_capabilities)
        return "is neither setuid root nor has file capabilities";
    if (helper.nosuid_mount)
        return "is on a nosuid mount";
    return {};
}

Plan make_plan(bool map_root)
{
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    std::string name = subid::user_name_from_passwd(read_text_file("/etc/passwd"), uid).value_or("");
    if (name.empty())
        if (const char* user = std::getenv("USER"))
            name = user;

    Plan plan;
    auto uid_ranges = subid::ranges_for(read_text_file("/etc/subuid"), uid, name);
    auto gid_ranges = subid::ranges_for(read_text_file("/etc/subgid"), uid, name);

    if (uid_ranges.empty() || gid_ranges.empty()) {
        plan.reason = "no entries for uid " + std::to_string(uid) + (name.empty() ? "" : " (" + name + ")") +
                      " in /etc/subuid and /etc/subgid";
    } else {
        // Fixed directories and helper_problem's judgement, as --check reports them.
        auto take = [&](const char* helper_name, std::string& path) {
            const HelperFacts helper = find_helper(helper_name, uid);
            const std::string problem = helper_problem(helper, uid);
            if (!problem.empty() && plan.reason.empty())
                plan.reason = (helper.path.empty() ? std::string(helper_name) : helper.path) + " " + problem;
            path = helper.path;
        };
        take("newuidmap", plan.newuidmap);
        take("newgidmap", plan.newgidmap);
    }
    if (!plan.reason.empty()) {
        plan.newuidmap.clear();
        plan.newgidmap.clear();
        uid_ranges.clear();
        gid_ranges.clear();
    }
    plan.uid_lines = subid::plan_map(uid, uid_ranges, map_root);
    plan.gid_lines = subid::plan_map(gid, gid_ranges, map_root);
    return plan;
}

void apply(const Plan& plan, pid_t pid)
{
    if (!plan.newuidmap.empty()) {
        // The two maps are independent: run both helpers at once (each takes a few
        // milliseconds to start), then wait for both.
        RunningHelper uid_helper = start_helper(plan.newuidmap, pid, subid::map_arguments(plan.uid_lines));
        std::optional<Error> gid_failure;  // kept whole: starting the helper has an errno
        try {
            RunningHelper gid_helper = start_helper(plan.newgidmap, pid, subid::map_arguments(plan.gid_lines));
            if (std::string gid_error = finish_helper(gid_helper); !gid_error.empty())
                gid_failure = Error(gid_error);
        } catch (const Error& e) {
            gid_failure = e;
        }
        const std::string uid_error = finish_helper(uid_helper);
        if (!uid_error.empty())
            throw Error(uid_error);
        if (gid_failure)
            throw *gid_failure;
        return;
    }
    log::info("single-id map (%s): only uid %u and gid %u exist inside", plan.reason.c_str(),
              plan.uid_lines.front().inside, plan.gid_lines.front().inside);
    write_proc_file(pid, "uid_map", subid::map_file_text(plan.uid_lines));
    // Without CAP_SETGID, gid_map can be written only once setgroups is denied
    // (user_namespaces(7)); root keeps setgroups working inside.
    if (::geteuid() != 0)
        write_proc_file(pid, "setgroups", "deny");
    write_proc_file(pid, "gid_map", subid::map_file_text(plan.gid_lines));
}

}  // namespace portwrap::id_map
