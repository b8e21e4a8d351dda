#ifndef NORTHBOUND_TESTS_SUPPORT_WS_CLIENT_H_
#define NORTHBOUND_TESTS_SUPPORT_WS_CLIENT_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

namespace nb::testing {

// A WebSocket client for tests, on its own io_context, with a deadline on every wait.
class WsClient {
 public:
  struct Handshake {
    bool upgraded = false;
    int http_status = 0;  // When not upgraded.
  };

  WsClient();
  ~WsClient();

  Handshake Connect(int port, const std::string& target,
                    const std::map<std::string, std::string>& headers = {});
  // A small receive buffer (set before Connect) makes a client that stops reading show
  // quickly; the kernel otherwise buffers up to tens of MiB on loopback.
  void SetReceiveBuffer(int bytes) { receive_buffer_ = bytes; }

  bool SendText(const std::string& text);
  bool SendJson(const boost::json::value& value);
  bool SendBinary(const std::string& bytes);

  // The next text frame, or nullopt on timeout or close (then close_code() tells which).
  std::optional<std::string> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::optional<boost::json::object> ReceiveJson(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until a close arrives (discarding frames) and returns its code, or 0 on timeout.
  int WaitForClose(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // 0 while open; the close code once the server closed (1006 if the connection dropped).
  int close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int close_code_ = 0;
  int receive_buffer_ = 0;
  std::string close_reason_;
};

// The frames received until the `complete` of subscription `id` (inclusive), or until
// `timeout` or a close ends the wait.
std::vector<boost::json::object> UntilComplete(
    WsClient& client, const std::string& id,
    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A string field of a server frame, or "" when it is absent or not a string.
std::string FrameString(const boost::json::object& frame, const char* key);

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_WS_CLIENT_H_
