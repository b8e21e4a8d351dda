#include "tests/support/service.h"

#include <filesystem>

#include "boost/json/parse.hpp"

namespace nb::testing {

ServiceProcess ServiceProcess::Start(const std::string& binary, const std::string& dir,
                                     const std::string& name, std::vector<std::string> args,
                                     const std::map<std::string, std::string>& env) {
  const std::string ports_path = dir + "/" + name + ".ports";
  const std::string log_path = dir + "/" + name + ".log";
  std::filesystem::remove(ports_path);
  std::vector<std::string> argv = {binary, "--listen_host=127.0.0.1", "--ports_file=" + ports_path};
  argv.insert(argv.end(), args.begin(), args.end());
  ServiceProcess service(Process::Start(argv, env, log_path), log_path);
  // Sanitizer builds start slowly on a loaded machine; 30 s is a deadline, not a wait.
  const bool ready =
      WaitFor([&] { return std::filesystem::exists(ports_path) || !service.process_.running(); },
              std::chrono::seconds(30));
  if (!ready || !std::filesystem::exists(ports_path)) return service;
  boost::system::error_code error;
  boost::json::value ports = boost::json::parse(ReadFile(ports_path), error);
  if (error || !ports.is_object()) return service;
  for (const auto& [key, value] : ports.as_object()) {
    if (value.is_int64()) service.ports_[std::string(key)] = static_cast<int>(value.as_int64());
  }
  return service;
}

int ServiceProcess::port(const std::string& name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? 0 : it->second;
}

}  // namespace nb::testing
