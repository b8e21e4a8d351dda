#ifndef NORTHBOUND_TESTS_SUPPORT_SERVICE_H_
#define NORTHBOUND_TESTS_SUPPORT_SERVICE_H_

#include <map>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace nb::testing {

// One of the project's binaries, started on free ports (port 0) by a test. Start() waits
// until the service has written its ports file, so ports() is known when it returns.
class ServiceProcess {
 public:
  // `name` names the log and ports files inside `dir`. `args` are extra flags.
  static ServiceProcess Start(const std::string& binary, const std::string& dir,
                              const std::string& name, std::vector<std::string> args = {},
                              const std::map<std::string, std::string>& env = {});

  // Empty when the service failed to come up (see log()).
  bool started() const { return !ports_.empty(); }
  int port(const std::string& name) const;
  const std::map<std::string, int>& ports() const { return ports_; }
  std::string log() const { return ReadFile(log_path_); }
  Process& process() { return process_; }

 private:
  ServiceProcess(Process process, std::string log_path)
      : process_(std::move(process)), log_path_(std::move(log_path)) {}

  Process process_;
  std::string log_path_;
  std::map<std::string, int> ports_;
};

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_SERVICE_H_
