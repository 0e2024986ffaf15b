// Diagnostics on stderr. Errors and notices always print; info only under -v/--verbose.
#pragma once

namespace portwrap::log {

void set_verbose(bool verbose) noexcept;
bool verbose() noexcept;

// "portwrap: <formatted>\n", written with one write(2) so lines never interleave.
void error(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));
void info(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));
// Something the user asked to be told, such as the port picked for -p 0.
void notice(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));

// Routes glib's and libslirp's log messages through the functions above.
void install_glib_handler() noexcept;

}  // namespace portwrap::log
