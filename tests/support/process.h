#ifndef NORTHBOUND_TESTS_SUPPORT_PROCESS_H_
#define NORTHBOUND_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nb::testing {

// A child process started by a test. The destructor kills (SIGKILL) and reaps it if it
// still runs, so no test leaves a process behind.
class Process {
 public:
  // Starts `argv[0]` with the given arguments and extra environment variables. The child's
  // stdout and stderr go to `log_path` when set (so a failing test can show them).
  static Process Start(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env = {},
                       const std::string& log_path = "");
  // The same, with the child's stdin connected to WriteLine.
  static Process StartWithInput(const std::vector<std::string>& argv, const std::string& log_path);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal_number);
  // Waits for the child to exit. Returns its exit status (128 + signal if killed by a
  // signal), or nullopt if it still runs at the deadline.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap.
  void Kill();
  // Writes `line` and a newline to the child's stdin (StartWithInput only). False when
  // the child is gone.
  bool WriteLine(const std::string& line);

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  static Process Spawn(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& log_path,
                       bool with_input);
  pid_t pid_ = -1;
  int input_fd_ = -1;
  std::optional<int> exit_status_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Runs a command through /bin/sh and returns its exit status and combined output.
struct CommandResult {
  int exit_status;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

std::string ReadFile(const std::string& path);

// Resident set size of a process in KiB (0 if it is gone).
long RssKib(long pid);

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_PROCESS_H_
