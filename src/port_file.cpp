#include "port_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "log.h"

namespace portwrap::port_file {

void remove_stale(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd)
        return;  // none there (or not a file portwrap could have written): write() decides
    struct stat opened {};
    if (::fstat(fd.get(), &opened) != 0 || !S_ISREG(opened.st_mode))
        return;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            throw Error("the port file " + path +
                        " belongs to a portwrap that is still running: give each run its own --port-file "
                        "(for example with $SLURM_JOB_ID in its name)");
        return;  // cannot tell (a file system without flock): leave it to be replaced
    }
    // Still the file we locked (not one a new run renamed there meanwhile): remove it.
    struct stat now {};
    if (::lstat(path.c_str(), &now) == 0 && now.st_dev == opened.st_dev && now.st_ino == opened.st_ino &&
        ::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw_errno("cannot remove the stale port file " + path);
}

UniqueFd write(const std::string& path, const std::vector<std::string>& lines)
{
    std::string text;
    for (const std::string& line : lines)
        text += line + "\n";
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd)
        throw_errno("cannot write the port file " + path);
    // Locked before it appears under its name: a reader never sees it unlocked while
    // portwrap runs. A file system without locks gets the file all the same.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
        log::info("cannot lock the port file %s (%s): readers cannot tell whether it is live", path.c_str(),
                  std::strerror(errno));
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0 ||
        ::rename(temporary.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        throw_errno("cannot write the port file " + path, err);
    }
    return fd;
}

}  // namespace portwrap::port_file
