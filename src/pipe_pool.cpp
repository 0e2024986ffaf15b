#include "pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "fd_pair.h"

namespace portwrap {

PipePool::~PipePool()
{
    for (Pipe& pipe : spare_)
        if (pipe.big)
            --big_;
}

bool PipePool::take(Pipe& pipe) noexcept
{
    if (!spare_.empty()) {
        pipe = std::move(spare_.back());
        spare_.pop_back();
        ++in_use_;
        return true;
    }
    PipeEnds ends = make_pipe(O_NONBLOCK | O_CLOEXEC);
    if (!ends)
        return false;
    pipe.read = std::move(ends.read);
    pipe.write = std::move(ends.write);
    // 64 KiB by default; 8 KiB when the user is past pipe-user-pages-soft. A pipe
    // holds at most its size (splice() from TCP fills whole pages), so the relay asks
    // for no more than that at a time.
    const int size = ::fcntl(pipe.write.get(), F_GETPIPE_SZ);
    pipe.capacity = size > 0 ? static_cast<size_t>(size) : 4096;
    pipe.big = false;
    ++in_use_;
    return true;
}

void PipePool::give_back(Pipe& pipe) noexcept
{
    if (!pipe.valid())
        return;
    --in_use_;
    ++returns_;
    if (spare_.size() >= kMaxSpare && pipe.big) {
        // Close a small spare rather than this big one.
        for (auto it = spare_.begin(); it != spare_.end(); ++it)
            if (!it->big) {
                spare_.erase(it);
                break;
            }
    }
    if (spare_.size() < kMaxSpare) {
        spare_.push_back(std::move(pipe));
    } else if (pipe.big) {
        --big_;
    }
    pipe = Pipe();  // closes it unless it was kept
}

void PipePool::discard(Pipe& pipe) noexcept
{
    if (!pipe.valid())
        return;
    --in_use_;
    ++returns_;
    if (pipe.big)
        --big_;
    pipe = Pipe();  // closes both ends
}

bool PipePool::grow(Pipe& pipe) noexcept
{
    if (pipe.big)
        return true;
    if (big_ >= kMaxBig)
        return false;
    const int size = ::fcntl(pipe.write.get(), F_SETPIPE_SZ, kBigSize);
    if (size <= 0 || static_cast<size_t>(size) <= pipe.capacity)
        return false;
    pipe.capacity = static_cast<size_t>(size);
    pipe.big = true;
    ++big_;
    return true;
}

}  // namespace portwrap
