// PipePool: the pipes the relay splices through, shared by every relayed connection
// of one portwrap. A direction of a connection holds a pipe only while bytes are on
// their way through it (docs/design.md, "Port drivers"): an idle connection holds
// none. Pipes given back empty are kept as spares (at most kMaxSpare) so that taking
// one again costs no system call.
//
// Every pipe's pages count towards its user's pipe-user-pages-soft (16384 pages,
// 64 MiB, by default), which the user's other programs share: past it, the kernel
// gives new pipes 2 pages only. So few pipes are ever grown (kMaxBig, 16 MiB in all).
#pragma once

#include <cstddef>
#include <vector>

#include "unique_fd.h"

namespace portwrap {

class PipePool {
public:
    static constexpr size_t kMaxSpare = 4;
    static constexpr size_t kMaxBig = 16;
    static constexpr int kBigSize = 1 << 20;

    struct Pipe {
        UniqueFd read, write;
        size_t capacity = 0;  // bytes (F_GETPIPE_SZ)
        bool big = false;     // grown to kBigSize: counted in big()
        bool valid() const noexcept { return write.valid(); }
    };

    PipePool() = default;
    PipePool(const PipePool&) = delete;
    PipePool& operator=(const PipePool&) = delete;
    ~PipePool();

    // Fills `pipe` (which holds none) with a spare pipe, else a new one. Returns false
    // with errno that of pipe2() (EMFILE, ENFILE: the caller waits and tries again later).
    bool take(Pipe& pipe) noexcept;
    // Takes back an empty pipe: kept as a spare, or closed when there are enough (a
    // big one then takes the place of a small spare: busy connections want it back).
    void give_back(Pipe& pipe) noexcept;
    // Closes a pipe that may still hold bytes (its connection ended with data in
    // flight): those bytes must never reach another connection.
    void discard(Pipe& pipe) noexcept;
    // Grows `pipe` to kBigSize. Returns false if it cannot: past kMaxBig big pipes,
    // above /proc/sys/fs/pipe-max-size or past the user's pipe page limits.
    bool grow(Pipe& pipe) noexcept;

    size_t in_use() const noexcept { return in_use_; }  // pipes held by connections
    size_t spare() const noexcept { return spare_.size(); }
    size_t big() const noexcept { return big_; }  // grown pipes, held or spare
    // Bumped whenever a pipe comes back: a direction waiting for one may try again.
    size_t returns() const noexcept { return returns_; }

private:
    std::vector<Pipe> spare_;  // the most recently given back last
    size_t in_use_ = 0;
    size_t big_ = 0;
    size_t returns_ = 0;
};

}  // namespace portwrap
