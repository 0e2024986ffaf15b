#include "error.h"

#include <cerrno>
#include <cstring>

namespace portwrap {

std::string describe_errno(const std::string& context, int err)
{
    return context + ": " + std::strerror(err);
}

Error Error::from_errno(const std::string& context, int err, int exit_status)
{
    Error error(describe_errno(context, err), exit_status, err);
    error.context_ = context;
    return error;
}

void throw_errno(const std::string& context, int err)
{
    throw Error::from_errno(context, err);
}

}  // namespace portwrap
