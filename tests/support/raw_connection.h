#ifndef NORTHBOUND_TESTS_SUPPORT_RAW_CONNECTION_H_
#define NORTHBOUND_TESTS_SUPPORT_RAW_CONNECTION_H_

#include <chrono>
#include <optional>
#include <string>

namespace nb::testing {

// A plain TCP connection to 127.0.0.1:port, closed when it goes out of scope: for tests
// that speak HTTP and WebSocket (RFC 6455) byte by byte, rule-breaking bytes included.
class RawConnection {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& bytes);
  // True once the peer closed (or reset) the connection; waits up to `timeout`.
  // Whatever the peer sends before closing is collected in received().
  bool ClosedWithin(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }

  // Reads the server's answer to an upgrade request: true when it is a 101, whose bytes
  // then go (what follows them is WebSocket frames). The answer's head stays in head().
  bool TakeUpgradeResponse(std::chrono::milliseconds timeout);
  const std::string& head() const { return head_; }

  // The next whole WebSocket frame from the server (unmasked, RFC 6455 section 5.2): its
  // opcode and payload; nullopt when none is whole within `timeout`.
  struct Frame {
    int opcode = 0;
    bool fin = false;
    std::string payload;
  };
  std::optional<Frame> NextFrame(std::chrono::milliseconds timeout);

 private:
  // Appends what arrives before `deadline` to received(); false once the peer closed.
  bool ReceiveSome(Clock::time_point deadline);

  int fd_;
  bool connected_ = false;
  std::string received_;
  std::string head_;
};

// A client frame (RFC 6455 section 5.2): `opcode`, final or not, the shortest length,
// masked with a fixed key.
std::string ClientFrame(int opcode, bool fin, const std::string& payload);

// An upgrade request for `target` with the standard's example key; `extra_headers` (each
// ending in CRLF) go before the blank line.
std::string UpgradeRequest(const std::string& target, const std::string& extra_headers = "",
                           const std::string& version = "13");

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_RAW_CONNECTION_H_
