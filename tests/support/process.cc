#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace nb::testing {

Process Process::Start(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& log_path) {
  return Spawn(argv, env, log_path, false);
}

Process Process::StartWithInput(const std::vector<std::string>& argv, const std::string& log_path) {
  return Spawn(argv, {}, log_path, true);
}

bool Process::WriteLine(const std::string& line) {
  if (input_fd_ < 0) return false;
  const std::string text = line + "\n";
  size_t sent = 0;
  while (sent < text.size()) {
    // A socket, not a pipe: MSG_NOSIGNAL keeps a dead child from killing the test.
    const ssize_t n = send(input_fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

Process Process::Spawn(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& log_path,
                       bool with_input) {
  int input[2] = {-1, -1};
  if (with_input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, input) != 0) {
    with_input = false;
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    // Children start with the default signal mask, whatever the test runner set.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (with_input) dup2(input[1], STDIN_FILENO);  // dup2 clears close-on-exec
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    if (!log_path.empty()) {
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
    }
    execv(args[0], args.data());
    _exit(127);
  }
  Process process(pid);
  if (with_input) {
    close(input[1]);
    process.input_fd_ = input[0];
  }
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_), input_fd_(other.input_fd_), exit_status_(other.exit_status_) {
  other.pid_ = -1;
  other.input_fd_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Kill();
    pid_ = other.pid_;
    input_fd_ = other.input_fd_;
    exit_status_ = other.exit_status_;
    other.pid_ = -1;
    other.input_fd_ = -1;
  }
  return *this;
}

Process::~Process() { Kill(); }

bool Process::running() {
  if (pid_ <= 0 || exit_status_) return false;
  return !Wait(std::chrono::milliseconds(0)).has_value();
}

void Process::Signal(int signal_number) {
  if (pid_ > 0 && !exit_status_) kill(pid_, signal_number);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t result = waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Process::Kill() {
  if (input_fd_ >= 0) {
    close(input_fd_);
    input_fd_ = -1;
  }
  if (pid_ <= 0 || exit_status_) return;
  kill(pid_, SIGKILL);
  Wait(std::chrono::seconds(10));
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

long RssKib(long pid) {
  const std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("VmRSS:");
  return at == std::string::npos ? 0 : std::stol(status.substr(at + 6));
}

}  // namespace nb::testing
