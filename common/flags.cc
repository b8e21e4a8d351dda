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

ABSL_FLAG(std::string, log_level, "info", "Lowest level logged: debug, info, warn or error.");
ABSL_FLAG(std::string, ports_file, "",
          "If set, write the ports actually bound as JSON to this file once serving.");
ABSL_FLAG(std::string, listen_host, "0.0.0.0", "Address every listener of the service binds.");

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
  return absl::OkStatus();
}

}  // namespace nb
