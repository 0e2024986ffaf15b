// event_loop::run with a forked child as the command and fake poll sources: the drain
// after the command ends, and a forwarded signal. The signals are blocked and read
// through a signalfd as in portwrap (signals.h); each test restores the mask.
#include <fcntl.h>
#include <sys/wait.h>

#include <functional>

#include "catch.h"
#include "child_process.h"
#include "event_loop.h"
#include "fd_pair.h"
#include "signals.h"

using namespace portwrap;

namespace {

// The command: waits on a pipe, exits with the byte written to it (0 at end-of-file),
// or dies of a signal with its default action.
struct Command {
    Command()
    {
        original_mask = signals::block_handled();
        signal_fd = signals::open_signalfd();
        PipeEnds pipe = make_pipe(O_CLOEXEC);
        REQUIRE(pipe);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            pipe.write.reset();
            ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
            unsigned char status = 0;
            ::_exit(::read(pipe.read.get(), &status, 1) == 1 ? status : 0);
        }
        pipe.read.reset();
        control = std::move(pipe.write);
        child.emplace(pid);
    }
    ~Command()
    {
        child.reset();
        signal_fd.reset();
        ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    }
    void exit_with(unsigned char status) { REQUIRE(::write(control.get(), &status, 1) == 1); }

    sigset_t original_mask{};
    UniqueFd signal_fd, control;
    std::optional<ChildProcess> child;
};

// A poll source whose behaviour each test scripts: `on_fill` runs at every fill();
// dispatch() reports `work` (then counts it down) and `pending` output.
struct ScriptedSource final : PollSource {
    void fill(std::vector<pollfd>&, uint32_t&) override
    {
        ++fills;
        if (on_fill)
            on_fill(fills);
    }
    size_t dispatch(const std::vector<pollfd>&, bool) override
    {
        ++dispatches;
        if (work == 0)
            return 0;
        --work;
        return 1;
    }
    bool has_pending_output() const noexcept override { return pending; }

    std::function<void(int)> on_fill;
    int fills = 0, dispatches = 0;
    int work = 0;
    bool pending = false;
};

}  // namespace

TEST_CASE("event loop: after the command exits, sources are served until they are idle", "[event-loop]")
{
    Command command;
    ScriptedSource source;
    source.on_fill = [&](int fill) {
        if (fill == 1) {
            command.exit_with(3);
            source.work = 5;  // five busy rounds: the loop must not leave during them
        }
    };
    ScriptedSource quiet;
    const int status = event_loop::run({&source, &quiet}, command.signal_fd.get(), *command.child, StopPolicy{}, [] {});
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
    CHECK(source.work == 0);
    // One quiet round after the last busy one, and every source dispatched each round.
    CHECK(source.dispatches >= 6);
    CHECK(quiet.dispatches == source.dispatches);
}

TEST_CASE("event loop: output still held for a client keeps it serving, up to the drain limit", "[event-loop]")
{
    Command command;
    ScriptedSource source;
    source.pending = true;  // never delivered: only the drain limit ends the loop
    source.on_fill = [&](int fill) {
        if (fill == 1)
            command.exit_with(0);
    };
    const int status = event_loop::run({&source}, command.signal_fd.get(), *command.child, StopPolicy{}, [] {});
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(source.dispatches > 2);  // it went on after the exit, with nothing moving

    // The positive control: the same without held output leaves after one quiet round.
    Command again;
    ScriptedSource idle;
    idle.on_fill = [&](int fill) {
        if (fill == 1)
            again.exit_with(0);
    };
    event_loop::run({&idle}, again.signal_fd.get(), *again.child, StopPolicy{}, [] {});
    CHECK(idle.dispatches < source.dispatches);
}

TEST_CASE("event loop: a signal sent to portwrap is forwarded to the command", "[event-loop]")
{
    Command command;
    ScriptedSource source;
    source.on_fill = [&](int fill) {
        if (fill == 1)
            ::kill(::getpid(), SIGUSR1);  // blocked here: read through the signalfd
    };
    const int status = event_loop::run({&source}, command.signal_fd.get(), *command.child, StopPolicy{}, [] {});
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGUSR1);
}
