#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "catch.h"
#include "sandbox_policies.h"
#include "seccomp_filter.h"

namespace {

using portwrap::seccomp_filter::Policy;

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs `body` in a child under `policy`; returns its exit code (0 = the body's checks
// held, 100 = the filter could not be loaded, else the number of the failed check).
int run_under(const Policy& policy, int (*body)())
{
    const pid_t pid = ::fork();
    if (pid == 0)
        _exit(!portwrap::seccomp_filter::load(policy) ? 100 : body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

bool refused(int result) { return result < 0 && errno == EPERM; }

}  // namespace

TEST_CASE("docs/security.md shows each seccomp policy as the code has it", "[sandbox-policies]")
{
    const std::string doc = read_file(PORTWRAP_SOURCE_ROOT "/docs/security.md");
    REQUIRE(!doc.empty());
    for (const Policy* policy :
         {&portwrap::sandbox_policies::event_loop(), &portwrap::sandbox_policies::handoff_additions(),
          &portwrap::sandbox_policies::connector(),
          &portwrap::sandbox_policies::janitor(), &portwrap::sandbox_policies::pid_ns_init()}) {
        const std::string begin = std::string("<!-- seccomp policy: ") + policy->name + " -->\n";
        const std::string end = "<!-- end of seccomp policy -->";
        const size_t at = doc.find(begin);
        INFO("the table to paste into docs/security.md:\n" << begin << portwrap::seccomp_filter::markdown_table(*policy)
                                                              << end);
        REQUIRE(at != std::string::npos);
        const size_t from = at + begin.size();
        const size_t to = doc.find(end, from);
        REQUIRE(to != std::string::npos);
        CHECK(doc.substr(from, to - from) == portwrap::seccomp_filter::markdown_table(*policy));
    }
}

TEST_CASE("the event loop's filter refuses other socket families, writing and executable memory", "[sandbox-policies]")
{
    CHECK(run_under(portwrap::sandbox_policies::event_loop(), [] {
              int tcp = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
              if (tcp < 0)
                  return 1;
              ::close(tcp);
              if (!refused(::socket(AF_UNIX, SOCK_STREAM, 0)))
                  return 2;
              if (!refused(::socket(AF_NETLINK, SOCK_RAW, 0)))
                  return 3;
              if (!refused(::socket(AF_INET, SOCK_RAW, 1)))
                  return 4;
              int pair[2];
              if (!refused(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair)))
                  return 5;
              if (!refused(::open("/dev/null", O_WRONLY)))
                  return 6;
              int reading = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
              if (reading < 0)
                  return 7;
              ::close(reading);
              void* code = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
              if (code != MAP_FAILED || errno != EPERM)
                  return 8;
              return 0;
          }) == 0);
}

TEST_CASE("the connector's filter allows only TCP and UDP sockets", "[sandbox-policies]")
{
    CHECK(run_under(portwrap::sandbox_policies::connector(), [] {
              int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
              if (udp < 0)
                  return 1;
              ::close(udp);
              if (!refused(::socket(AF_UNIX, SOCK_STREAM, 0)))
                  return 2;
              if (!refused(::open("/dev/null", O_RDONLY)))
                  return 3;
              return 0;
          }) == 0);
}

TEST_CASE("the clean-up process's and the init's filters refuse what they never do", "[sandbox-policies]")
{
    CHECK(run_under(portwrap::sandbox_policies::janitor(), [] {
              if (!refused(::socket(AF_INET, SOCK_STREAM, 0)))
                  return 1;
              return refused(::open("/dev/null", O_RDONLY)) ? 0 : 2;
          }) == 0);
    CHECK(run_under(portwrap::sandbox_policies::pid_ns_init(), [] {
              if (!refused(::socket(AF_INET, SOCK_STREAM, 0)))
                  return 1;
              return refused(::unlink("/nonexistent/portwrap-test")) ? 0 : 2;
          }) == 0);
}
