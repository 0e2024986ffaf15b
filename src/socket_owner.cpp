#include "socket_owner.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "error.h"
#include "file_text.h"
#include "unique_fd.h"

namespace portwrap::socket_owner {
namespace {

constexpr size_t kMaxText = 512;  // a nodename is at most 64 bytes

bool printable_word(const std::string& text)
{
    if (text.empty())
        return false;
    for (unsigned char c : text)
        if (c <= ' ' || c >= 0x7f)
            return false;
    return true;
}

}  // namespace

std::string path_for(const std::string& socket_path)
{
    return socket_path + ".host";
}

std::string format(const Owner& owner)
{
    return owner.host + " " + std::to_string(owner.pid) + "\n";
}

std::optional<Owner> parse(const std::string& text)
{
    std::string line = text;
    if (!line.empty() && line.back() == '\n')
        line.pop_back();
    const size_t space = line.find(' ');
    if (space == std::string::npos)
        return std::nullopt;
    Owner owner;
    owner.host = line.substr(0, space);
    const std::string pid = line.substr(space + 1);
    if (!printable_word(owner.host) || pid.empty() || pid.size() > 9 || pid[0] == '0')
        return std::nullopt;
    for (char c : pid) {
        if (c < '0' || c > '9')
            return std::nullopt;
        owner.pid = owner.pid * 10 + (c - '0');
    }
    return owner;
}

std::string this_host()
{
    utsname names{};
    if (::uname(&names) != 0)
        throw_errno("cannot read the host name (uname)");
    return names.nodename;
}

std::optional<Owner> read(const std::string& socket_path, const std::string& context)
{
    const std::string path = path_for(socket_path);
    const auto text = file_text::read(path, kMaxText + 1, O_NOFOLLOW | O_NONBLOCK);
    if (!text) {
        if (errno == ENOENT)
            return std::nullopt;
        throw_errno(context + ": cannot read its owner file " + path);
    }
    auto owner = parse(*text);
    if (!owner)
        throw Error(context + ": its owner file " + path +
                    " does not hold 'HOST PID' as portwrap writes it: if no portwrap serves the socket, remove both");
    return owner;
}

void write(const std::string& socket_path)
{
    const std::string path = path_for(socket_path);
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    const std::string text = format({this_host(), ::getpid()});
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        throw_errno("cannot write the owner file " + path);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::rename(temporary.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        throw_errno("cannot write the owner file " + path, err);
    }
}

}  // namespace portwrap::socket_owner
