// Whether a path portwrap creates on the host (a unix: socket, the --control-socket,
// the --port-file) sits where only the user (and root) can swap it, as OpenSSH's
// StrictModes asks of ~/.ssh: every directory on the way to it must be owned by root
// or the user and writable by no one else, unless it is sticky (like /tmp, where
// others may add files but not rename or remove the user's).
#pragma once

#include <sys/types.h>

#include <string>

namespace portwrap::path_safety {

// Pure: why the directory `dir` (owner uid `owner`, st_mode `mode`) is unsafe for
// `user`, with what to do; "" if it is safe.
std::string judge_directory(const std::string& dir, uid_t owner, mode_t mode, uid_t user);

// Pure: why a symbolic link on the way (owner uid `owner`) is unsafe; "" if safe.
// Its own mode means nothing; whoever owns it could point it elsewhere.
std::string judge_link(const std::string& link, uid_t owner, uid_t user);

// Walks every directory that leads to `path`, following symbolic links as the kernel
// would (from the working directory for a relative path), and throws Error
// "<context>: <reason>" at the first unsafe one. `path`'s last component is not
// judged (it is the file itself). A directory that does not exist ends the walk:
// creating the file there fails with its own message.
void check_parents(const std::string& path, const std::string& context, uid_t user);

}  // namespace portwrap::path_safety
