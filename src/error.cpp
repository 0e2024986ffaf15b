#include "error.h"

#include <cerrno>
#include <cstring>

namespace portwrap {

std::string describe_errno(const std::string& context, int err)
{
    return context + ": " + std::strerror(err);
}

void throw_errno(const std::string& context, int err)
{
    throw Error(describe_errno(context, err), kExitSetupFailure, err);
}

}  // namespace portwrap
