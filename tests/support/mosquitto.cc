#include "tests/support/mosquitto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace nb::testing {

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

bool WaitForListener(int port, std::chrono::milliseconds timeout) {
  return WaitFor(
      [port] {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<uint16_t>(port));
        const bool connected =
            connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
        close(fd);
        return connected;
      },
      timeout);
}

MosquittoBroker::MosquittoBroker(std::string dir, std::string username, std::string password)
    : dir_(std::move(dir)), username_(std::move(username)), password_(std::move(password)) {}

bool MosquittoBroker::Start() {
  if (port_ == 0) port_ = FreeLoopbackPort();
  const std::string config = dir_ + "/mosquitto.conf";
  {
    std::ofstream out(config);
    out << "listener " << port_ << " 127.0.0.1\n"
        << "persistence false\n"
        << "set_tcp_nodelay true\n"
        << "log_dest stderr\n"
        << "log_type error\nlog_type warning\nlog_type notice\n"
        << "max_queued_messages 100000\n"
        // Started as root, Mosquitto would drop to its own user, which cannot read the
        // test's private directory: stay who the test is.
        << "user " << getpwuid(getuid())->pw_name << "\n";
    if (username_.empty()) {
      out << "allow_anonymous true\n";
    } else {
      out << "allow_anonymous false\npassword_file " << dir_ << "/mosquitto.passwd\n";
    }
  }
  if (!username_.empty()) {
    const CommandResult made = RunCommand(absl::StrCat(
        "rm -f ", dir_, "/mosquitto.passwd && touch ", dir_, "/mosquitto.passwd && chmod 0700 ",
        dir_, "/mosquitto.passwd && mosquitto_passwd -b ", dir_, "/mosquitto.passwd ", username_,
        " ", password_));
    if (made.exit_status != 0) return false;
  }
  process_ = std::make_unique<Process>(
      Process::Start({"/usr/sbin/mosquitto", "-c", config}, {}, dir_ + "/mosquitto.log"));
  return WaitForListener(port_, std::chrono::seconds(10));
}

void MosquittoBroker::Kill() {
  if (process_) process_->Kill();
  process_.reset();
}

std::string MosquittoBroker::uri() const { return absl::StrCat("mqtt://127.0.0.1:", port_); }

std::string MosquittoBroker::log() const { return ReadFile(dir_ + "/mosquitto.log"); }

bool MosquittoBroker::Publish(const std::string& topic, const std::string& payload,
                              bool retain) const {
  const std::string file = dir_ + "/publish.payload";
  std::ofstream(file, std::ios::binary) << payload;
  std::string command =
      absl::StrCat("mosquitto_pub -h 127.0.0.1 -p ", port_, " -q 1 -t '", topic, "' -f ", file);
  if (retain) absl::StrAppend(&command, " -r");
  if (!username_.empty()) absl::StrAppend(&command, " -u ", username_, " -P ", password_);
  return RunCommand(command).exit_status == 0;
}

}  // namespace nb::testing
