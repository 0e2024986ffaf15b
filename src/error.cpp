#include "error.h"

#include <cerrno>
#include <cstring>

namespace portwrap {

std::string describe_errno(const std::string& context, int err)
{
    return context + ": " + std::strerror(err);
}

void throw_errno(const std::string& context)
{
    throw Error(describe_errno(context, errno));
}

}  // namespace portwrap
