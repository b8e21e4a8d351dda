#ifndef NORTHBOUND_NBCTL_WS_COMMANDS_H_
#define NORTHBOUND_NBCTL_WS_COMMANDS_H_

#include <istream>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"
#include "nbctl/arguments.h"

namespace nb::nbctl {

// `nbctl ws ...`: a WebSocket client for people. Returns the exit code.
int RunWsCommand(const Arguments& arguments, std::istream& in, std::ostream& out,
                 std::ostream& err);

// Builds the sub frame of `nbctl ws sub TOPIC [--read ..|--write ..|--invoke ..]`.
absl::StatusOr<boost::json::object> BuildSubFrame(const Arguments& arguments);
// One server frame as a line for people.
std::string Describe(const boost::json::object& frame);

}  // namespace nb::nbctl

#endif  // NORTHBOUND_NBCTL_WS_COMMANDS_H_
