// Reading a whole (small) file: /etc/passwd, /etc/subuid, resolv.conf, an owner file,
// a /proc file. Plain read(2), not iostreams: <fstream> alone pulls the C++ locale
// machinery (about 800 KB) into the static binary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace portwrap::file_text {

inline constexpr size_t kDefaultLimit = 1 << 20;
inline constexpr size_t kNoLimit = SIZE_MAX;  // files the user's site controls: /etc/passwd

// The file's text, at most `limit` bytes of it (the rest is not read: a caller that
// must not accept a longer file asks for one byte more than it accepts). `flags` are
// added to O_RDONLY | O_CLOEXEC (O_NOFOLLOW, O_NONBLOCK). nullopt with errno set when
// the file cannot be opened or read; it never throws (but bad_alloc), so the event
// loop may read /proc with it (docs/design.md, "Errors").
std::optional<std::string> read(const std::string& path, size_t limit = kDefaultLimit, int flags = 0);

// The same from an open fd, read from its current offset.
std::optional<std::string> read_fd(int fd, size_t limit = kDefaultLimit);

}  // namespace portwrap::file_text
