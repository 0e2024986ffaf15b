// A child's wait status -> portwrap's exit status, the way shells report it.
#pragma once

namespace portwrap {

// Exit code for an exited child; 128+N for a child killed by signal N.
int exit_status_from_wait(int wait_status) noexcept;

}  // namespace portwrap
