#ifndef NORTHBOUND_NBCTL_WS_COMMANDS_H_
#define NORTHBOUND_NBCTL_WS_COMMANDS_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"

namespace nb::nbctl {

struct WsConnection {
  std::string url = "ws://localhost:8080";
  std::string token;
};

// `nbctl ws sub TOPIC ...`; at most one of read, write and invoke is set.
struct SubOptions {
  std::string topic;
  std::string id = "nbctl-1";
  std::vector<std::string> read;    // property ids
  std::vector<std::string> write;   // NAME=VALUE
  std::string invoke;               // function id
  std::vector<std::string> inputs;  // NAME=VALUE, with invoke
  bool async = false;
  int timeout_ms = 0;  // 0: the server's default
  int64_t count = 0;   // stop after this many results; 0: at complete or Ctrl-C
};

// `nbctl ws sub`: sends one sub and prints the answers. Returns the exit status: 0 when
// every answer was a success, 1 otherwise (an error frame, a refused connection).
int RunWsSub(const WsConnection& connection, const SubOptions& options, std::ostream& out,
             std::ostream& err);
// `nbctl ws`: each line read from `in` is sent as a frame; answers are printed until the
// input ends and the connection closes.
int RunWsInteractive(const WsConnection& connection, std::istream& in, std::ostream& out,
                     std::ostream& err);

// The sub frame of `options`. Values in write and inputs are JSON when they parse as JSON
// (20.5, true, "x"), else text; an item without `=` is INVALID_ARGUMENT.
absl::StatusOr<boost::json::object> BuildSubFrame(const SubOptions& options);
// One server frame as a line for people.
std::string Describe(const boost::json::object& frame);

}  // namespace nb::nbctl

#endif  // NORTHBOUND_NBCTL_WS_COMMANDS_H_
