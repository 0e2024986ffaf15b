#include "path_safety.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <deque>

#include "error.h"

namespace portwrap::path_safety {
namespace {

constexpr int kMaxLinks = 40;  // as the kernel's ELOOP limit

std::deque<std::string> components(const std::string& path)
{
    std::deque<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos)
            slash = path.size();
        if (slash > start)
            parts.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

std::string joined(const std::string& dir, const std::string& name)
{
    return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string parent_of(const std::string& dir)
{
    const size_t slash = dir.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

std::string octal(mode_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

}  // namespace

std::string judge_directory(const std::string& dir, uid_t owner, mode_t mode, uid_t user)
{
    if (owner != 0 && owner != user)
        return "the directory " + dir + " belongs to uid " + std::to_string(owner) +
               ", who could replace what is in it: choose a directory of your own";
    const bool group = mode & S_IWGRP, others = mode & S_IWOTH;
    if ((group || others) && !(mode & S_ISVTX))
        return "the directory " + dir + " (mode " + octal(mode) + ") is writable by " +
               (others ? "others" : "its group") + " and not sticky, so they could replace what is in it: run 'chmod " +
               (others ? "go-w" : "g-w") + " " + dir + "' or choose a directory only you can write to";
    return "";
}

std::string judge_link(const std::string& link, uid_t owner, uid_t user)
{
    if (owner != 0 && owner != user)
        return "the symbolic link " + link + " on the way belongs to uid " + std::to_string(owner) +
               ", who could point it elsewhere: use a path without it";
    return "";
}

void check_parents(const std::string& path, const std::string& context, uid_t user)
{
    std::string start = "/";
    if (path.empty() || path[0] != '/') {
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof cwd))
            throw_errno(context + ": cannot read the working directory");
        start = cwd;
    }
    // The walk: `current` is resolved (no links) and judged; `pending` is what is left.
    std::deque<std::string> pending = components(start);
    for (const std::string& part : components(path))
        pending.push_back(part);
    if (pending.empty())
        return;
    pending.pop_back();  // the file itself
    std::string current = "/";
    int links = 0;
    for (bool first = true;; first = false) {
        struct stat st {};
        if (first) {
            if (::stat("/", &st) != 0)
                throw_errno(context + ": cannot check /");
            if (std::string why = judge_directory("/", st.st_uid, st.st_mode, user); !why.empty())
                throw Error(context + ": " + why);
        }
        if (pending.empty())
            return;
        const std::string part = pending.front();
        pending.pop_front();
        if (part == ".")
            continue;
        if (part == "..") {
            current = parent_of(current);
            continue;
        }
        const std::string next = joined(current, part);
        if (::lstat(next.c_str(), &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                return;  // creating the file will fail and say so
            throw_errno(context + ": cannot check " + next);
        }
        if (S_ISLNK(st.st_mode)) {
            if (std::string why = judge_link(next, st.st_uid, user); !why.empty())
                throw Error(context + ": " + why);
            if (++links > kMaxLinks)
                throw_errno(context + ": resolving " + next, ELOOP);
            char target[PATH_MAX];
            const ssize_t length = ::readlink(next.c_str(), target, sizeof target);
            if (length < 0 || length == static_cast<ssize_t>(sizeof target))
                throw_errno(context + ": cannot read the symbolic link " + next);
            const std::string to(target, static_cast<size_t>(length));
            std::deque<std::string> parts = components(to);
            pending.insert(pending.begin(), parts.begin(), parts.end());
            if (to[0] == '/')
                current = "/";
            continue;
        }
        if (!S_ISDIR(st.st_mode))
            return;  // as for a missing directory: creating the file fails
        if (std::string why = judge_directory(next, st.st_uid, st.st_mode, user); !why.empty())
            throw Error(context + ": " + why);
        current = next;
    }
}

}  // namespace portwrap::path_safety
