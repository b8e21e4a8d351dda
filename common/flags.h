#ifndef NORTHBOUND_COMMON_FLAGS_H_
#define NORTHBOUND_COMMON_FLAGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/tls.h"

namespace nb {

// Parses the command line of a service. Every flag can also be set from the environment
// as NB_<FLAG NAME IN UPPER CASE> (for example NB_GRPC_PORT for --grpc_port); the command
// line wins over the environment. A bad value in either prints a message naming the flag
// or variable and exits with status 2. Returns the positional arguments.
std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage);

// Applies NB_* environment variables to the registered flags. Part of ParseFlags; exposed
// for tests.
absl::Status ApplyFlagEnvironment();

// The environment variable that sets `flag_name`.
std::string FlagEnvironmentName(absl::string_view flag_name);

// The settings every service shares, read from flags defined in common/flags.cc.
struct CommonOptions {
  std::string log_level;
  // When set, the service writes {"grpc_port":..,"metrics_port":..,"http_port":..} to this
  // file once it serves, so tests and scripts can use port 0 and learn the real ports.
  std::string ports_file;
  std::string listen_host;
  // --tls_cert_file, --tls_key_file, --tls_client_ca_file: what the service serves with.
  TlsServerFiles tls_server;
  // --tls_ca_file, --tls_client_cert_file, --tls_client_key_file: how it calls others.
  TlsClientFiles tls_client;
};

// Reads and validates the shared flags; also applies the log level.
absl::Status LoadCommonOptions(CommonOptions& options);

// Checks a port number flag (0 means "any free port").
absl::Status ValidatePort(absl::string_view flag_name, int port);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_FLAGS_H_
