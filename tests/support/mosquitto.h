#ifndef NORTHBOUND_TESTS_SUPPORT_MOSQUITTO_H_
#define NORTHBOUND_TESTS_SUPPORT_MOSQUITTO_H_

#include <memory>
#include <string>

#include "tests/support/process.h"

namespace nb::testing {

// A real Mosquitto broker (Debian's /usr/sbin/mosquitto) on a free loopback port, with its
// own configuration in `dir`. Start waits until it accepts connections.
class MosquittoBroker {
 public:
  // With a username, the broker refuses anonymous clients and knows only that user.
  MosquittoBroker(std::string dir, std::string username = "", std::string password = "");

  bool Start();
  // SIGKILL: connections drop without a goodbye.
  void Kill();
  int port() const { return port_; }
  std::string uri() const;
  std::string log() const;

  // Publishes with mosquitto_pub (a client the project did not write); true on success.
  bool Publish(const std::string& topic, const std::string& payload, bool retain = false) const;

 private:
  std::string dir_;
  std::string username_;
  std::string password_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
int FreeLoopbackPort();
// True once something accepts TCP connections on 127.0.0.1:`port` (waits up to `timeout`).
bool WaitForListener(int port, std::chrono::milliseconds timeout);

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_MOSQUITTO_H_
