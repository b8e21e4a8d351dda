#ifndef NORTHBOUND_TESTS_SUPPORT_MODBUS_PEER_H_
#define NORTHBOUND_TESTS_SUPPORT_MODBUS_PEER_H_

#include <memory>
#include <optional>
#include <string>

#include "tests/support/process.h"

namespace nb::testing {

// A real Modbus TCP server (pymodbus, tests/peers/modbus_server.py) on a loopback port,
// with a datastore the test sets and reads through the peer's control lines.
class ModbusPeer {
 public:
  // `units`: the unit ids it answers, "1,3". `port` 0 picks a free one.
  ModbusPeer(std::string dir, std::string units = "1", int port = 0);

  // Starts the server and waits until it accepts connections.
  bool Start();
  // SIGKILL: connections drop without a goodbye. Start again serves the same port.
  void Kill();
  // SIGSTOP/SIGCONT: connections stay open but nothing answers.
  void Pause();
  void Resume();
  int port() const { return port_; }
  std::string endpoint() const;
  std::string log() const;

  // A typed value in a table of a unit, laid out by the peer. `type` as in the fleet.
  bool Set(int unit, const std::string& table, int address, const std::string& type, double value,
           const std::string& word_order = "big", const std::string& byte_order = "big");
  std::optional<double> Get(int unit, const std::string& table, int address,
                            const std::string& type, const std::string& word_order = "big",
                            const std::string& byte_order = "big");

 private:
  // Sends one control line and returns the peer's answer ("ok", "value X").
  std::optional<std::string> Control(const std::string& request_without_seq);

  std::string dir_;
  std::string units_;
  int port_ = 0;
  int starts_ = 0;
  int seq_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_MODBUS_PEER_H_
