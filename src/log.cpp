#include "log.h"

#include <glib.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>

namespace portwrap::log {
namespace {

bool g_verbose = false;

void vwrite_line(const char* format, va_list args) noexcept
{
    char line[1024];
    int prefix = std::snprintf(line, sizeof line, "portwrap: ");
    int body = std::vsnprintf(line + prefix, sizeof line - prefix - 1, format, args);
    size_t len = prefix + (body < 0 ? 0 : body);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    // One message, one line: a newline or escape sequence in a value (an argument, a
    // path) must not split it or reach the terminal.
    for (size_t i = prefix; i < len; ++i) {
        const auto byte = static_cast<unsigned char>(line[i]);
        if (byte < 0x20 || byte == 0x7f)
            line[i] = '?';
    }
    line[len++] = '\n';
    ssize_t unused = ::write(STDERR_FILENO, line, len);
    (void)unused;  // nowhere left to report a failed write to stderr
}

void glib_handler(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) noexcept
{
    const char* who = domain ? domain : "glib";
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        error("%s: %s", who, message);
    else
        info("%s: %s", who, message);
}

}  // namespace

void set_verbose(bool verbose) noexcept { g_verbose = verbose; }
bool verbose() noexcept { return g_verbose; }

void error(const char* format, ...) noexcept
{
    va_list args;
    va_start(args, format);
    vwrite_line(format, args);
    va_end(args);
}

void notice(const char* format, ...) noexcept
{
    va_list args;
    va_start(args, format);
    vwrite_line(format, args);
    va_end(args);
}

void info(const char* format, ...) noexcept
{
    if (!g_verbose)
        return;
    va_list args;
    va_start(args, format);
    vwrite_line(format, args);
    va_end(args);
}

void install_glib_handler() noexcept
{
    g_log_set_default_handler(glib_handler, nullptr);
}

}  // namespace portwrap::log
