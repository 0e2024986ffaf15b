// The small helpers every module shares: Error's errno, pipes and socket pairs as
// UniqueFds (fd_pair.h), reading a whole file (file_text.h).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "catch.h"
#include "error.h"
#include "fd_pair.h"
#include "file_text.h"

using namespace portwrap;

namespace {

// A file with `text` in a fresh directory, removed at the end.
struct TemporaryFile {
    explicit TemporaryFile(const std::string& text)
    {
        char pattern[] = "/tmp/portwrap-unit-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        dir = pattern;
        path = dir + "/file";
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        REQUIRE(fd);
        REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    ~TemporaryFile()
    {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
    std::string dir, path;
};

bool is_cloexec(int fd)
{
    return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

}  // namespace

TEST_CASE("Error: throw_errno keeps the errno for callers to branch on, and says it in the text", "[error]")
{
    try {
        errno = ENOENT;
        throw_errno("cannot open /nonexistent");
    } catch (const Error& e) {
        CHECK(e.errno_value() == ENOENT);
        CHECK(std::string(e.what()) == "cannot open /nonexistent: No such file or directory");
        CHECK(e.context() == "cannot open /nonexistent");  // the errno's text left out
        CHECK(e.exit_status() == kExitSetupFailure);
    }
    try {
        throw_errno("cannot bind", EADDRINUSE);  // an errno taken earlier
    } catch (const Error& e) {
        CHECK(e.errno_value() == EADDRINUSE);
    }
    CHECK(Error("bad usage").errno_value() == 0);  // no system call failed
    CHECK(Error("bad usage").context() == "bad usage");
    CHECK(Error("not found", kExitNotFound, ENOENT).exit_status() == kExitNotFound);
}

TEST_CASE("fd_pair: a pipe's ends carry bytes one way and are close-on-exec", "[fd-pair]")
{
    PipeEnds pipe = make_pipe(O_CLOEXEC);
    REQUIRE(pipe);
    CHECK(is_cloexec(pipe.read.get()));
    CHECK(is_cloexec(pipe.write.get()));
    REQUIRE(::write(pipe.write.get(), "x", 1) == 1);
    char byte = 0;
    CHECK(::read(pipe.read.get(), &byte, 1) == 1);
    CHECK(byte == 'x');
    CHECK(::write(pipe.read.get(), "x", 1) < 0);  // the read end does not write
}

TEST_CASE("fd_pair: a socket pair of the asked type, both ends joined", "[fd-pair]")
{
    SocketPair pair = make_socket_pair(SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK);
    REQUIRE(pair);
    int type = 0;
    socklen_t length = sizeof type;
    REQUIRE(::getsockopt(pair.first.get(), SOL_SOCKET, SO_TYPE, &type, &length) == 0);
    CHECK(type == SOCK_SEQPACKET);
    CHECK((::fcntl(pair.second.get(), F_GETFL) & O_NONBLOCK) != 0);
    REQUIRE(::send(pair.second.get(), "ab", 2, 0) == 2);
    char text[4] = {};
    CHECK(::recv(pair.first.get(), text, sizeof text, 0) == 2);
    CHECK(std::string(text) == "ab");
}

TEST_CASE("fd_pair: out of fds, both ends are invalid and errno says why", "[fd-pair]")
{
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    // Positive control: one pipe can be made under the current limit.
    REQUIRE(make_pipe(O_CLOEXEC));
    rlimit none = saved;
    none.rlim_cur = 0;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &none) == 0);
    errno = 0;
    PipeEnds pipe = make_pipe(O_CLOEXEC);
    const int pipe_errno = errno;
    errno = 0;
    SocketPair pair = make_socket_pair(SOCK_STREAM | SOCK_CLOEXEC);
    const int pair_errno = errno;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    CHECK_FALSE(pipe);
    CHECK_FALSE(pipe.read.valid());
    CHECK_FALSE(pipe.write.valid());
    CHECK(pipe_errno == EMFILE);
    CHECK_FALSE(pair);
    CHECK(pair_errno == EMFILE);
}

TEST_CASE("file_text: the whole file, or at most the limit", "[file-text]")
{
    std::string text;
    for (int i = 0; i < 3000; ++i)
        text += "line " + std::to_string(i) + "\n";  // larger than one read's buffer
    TemporaryFile file(text);
    CHECK(file_text::read(file.path) == text);
    CHECK(file_text::read(file.path, 10) == text.substr(0, 10));
    CHECK(file_text::read(file.path, 0) == "");
    TemporaryFile empty("");
    CHECK(file_text::read(empty.path) == "");
}

TEST_CASE("file_text: a file that cannot be read is nullopt with its errno", "[file-text]")
{
    errno = 0;
    CHECK_FALSE(file_text::read("/nonexistent/portwrap-unit"));
    CHECK(errno == ENOENT);
    TemporaryFile dir_holder("x");
    errno = 0;
    CHECK_FALSE(file_text::read(dir_holder.dir));  // a directory: read() fails
    CHECK(errno == EISDIR);
    // O_NOFOLLOW: a symbolic link is refused, the file behind it would be read.
    const std::string link = dir_holder.dir + "/link";
    REQUIRE(::symlink(dir_holder.path.c_str(), link.c_str()) == 0);
    CHECK(file_text::read(link) == "x");
    errno = 0;
    CHECK_FALSE(file_text::read(link, file_text::kDefaultLimit, O_NOFOLLOW));
    CHECK(errno == ELOOP);
    ::unlink(link.c_str());
}

TEST_CASE("file_text: /proc files, which report no size, are read whole", "[file-text]")
{
    const auto status = file_text::read("/proc/self/status");
    REQUIRE(status);
    CHECK(status->find("\nTgid:") != std::string::npos);
}
