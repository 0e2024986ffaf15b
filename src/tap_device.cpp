#include "tap_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace portwrap {

UniqueFd open_tap(const std::string& name)
{
    constexpr const char* kTunPath = "/dev/net/tun";
    UniqueFd fd(::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        std::string hint;
        if (err == ENOENT)
            hint = " (load the tun module: modprobe tun, or create it: mknod /dev/net/tun c 10 200)";
        else if (err == EACCES || err == EPERM)
            hint = " (it must be readable and writable by every user: chmod 0666 /dev/net/tun)";
        throw Error(describe_errno(std::string("cannot open ") + kTunPath, err) + hint, kExitSetupFailure, err);
    }
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), TUNSETIFF, &request) < 0)
        throw_errno("cannot create TAP device " + name + " (TUNSETIFF on " + kTunPath + ")");
    // Closing the last fd of a non-persistent TAP unregisters the device there and
    // then, which waits for RCU grace periods: some 30-60 ms added to portwrap's exit.
    // Persistent, it stays until its namespace is freed, and the kernel tears that
    // down in the background once the last process and socket in it are gone.
    // Failing that, only the exit is slower.
    (void)::ioctl(fd.get(), TUNSETPERSIST, 1);
    return fd;
}

}  // namespace portwrap
