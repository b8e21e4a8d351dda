#include "common/flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/tls.h"

ABSL_FLAG(std::string, log_level, "info", "Lowest level logged: debug, info, warn or error.");
ABSL_FLAG(std::string, ports_file, "",
          "If set, write the ports actually bound as JSON to this file once serving.");
ABSL_FLAG(std::string, listen_host, "0.0.0.0", "Address every listener of the service binds.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate (chain) to serve TLS with: gRPC for device-service and auth-service, "
          "wss:// for ws-frontend. Empty: plaintext.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA: require client certificates that chain to it (mTLS).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA the certificates of the services this one calls must chain to; set, calls "
          "use TLS.");
ABSL_FLAG(std::string, tls_client_cert_file, "",
          "PEM client certificate presented to the services this one calls (their mTLS).");
ABSL_FLAG(std::string, tls_client_key_file, "", "PEM private key of --tls_client_cert_file.");

namespace nb {

std::string FlagEnvironmentName(absl::string_view flag_name) {
  return absl::StrCat("NB_", absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyFlagEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string env_name = FlagEnvironmentName(name);
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", env_name, ": ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  if (absl::Status status = ApplyFlagEnvironment(); !status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    std::exit(2);
  }
  // absl exits with a message naming the flag on a bad command-line value.
  return absl::ParseCommandLine(argc, argv);
}

absl::Status ValidatePort(absl::string_view flag_name, int port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag_name, " must be a port number 0..65535, got ", port));
  }
  return absl::OkStatus();
}

absl::Status LoadCommonOptions(CommonOptions& options) {
  options.log_level = absl::GetFlag(FLAGS_log_level);
  options.ports_file = absl::GetFlag(FLAGS_ports_file);
  options.listen_host = absl::GetFlag(FLAGS_listen_host);
  absl::StatusOr<log::Level> level = log::ParseLevel(options.log_level);
  if (!level.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--log_level: ", level.status().message()));
  }
  log::SetMinLevel(*level);
  if (options.listen_host.empty()) {
    return absl::InvalidArgumentError("--listen_host must not be empty");
  }
  options.tls_server = {absl::GetFlag(FLAGS_tls_cert_file), absl::GetFlag(FLAGS_tls_key_file),
                        absl::GetFlag(FLAGS_tls_client_ca_file)};
  options.tls_client = {absl::GetFlag(FLAGS_tls_ca_file), absl::GetFlag(FLAGS_tls_client_cert_file),
                        absl::GetFlag(FLAGS_tls_client_key_file)};
  return CheckTlsFiles(options.tls_server, options.tls_client);
}

}  // namespace nb
