// `portwrap ctl SOCKET REQUEST...`: sends one request to a running portwrap's
// --control-socket and prints the answer (control_server.h has the protocol).
#pragma once

#include <string>
#include <vector>

namespace portwrap::control_client {

// `args`: the words after "ctl". Prints the answer's lines on stdout. Returns 0 if
// the request succeeded, 1 if portwrap refused it (its message on stderr, one line),
// 125 if the socket could not be reached or the words make no request.
int run(const std::vector<std::string>& args);

}  // namespace portwrap::control_client
