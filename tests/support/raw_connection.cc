#include "tests/support/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "gtest/gtest.h"

namespace nb::testing {

using std::chrono::milliseconds;

RawConnection::RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

RawConnection::~RawConnection() { ::close(fd_); }

bool RawConnection::Send(const std::string& bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

bool RawConnection::ClosedWithin(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!ReceiveSome(deadline)) return true;
  }
  return false;
}

bool RawConnection::TakeUpgradeResponse(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = received_.find("\r\n\r\n")) == std::string::npos) {
    if (Clock::now() >= deadline || !ReceiveSome(deadline)) return false;
  }
  head_ = received_.substr(0, end + 4);
  received_.erase(0, end + 4);
  return head_.starts_with("HTTP/1.1 101");
}

std::optional<RawConnection::Frame> RawConnection::NextFrame(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (received_.size() >= 2) {
      const auto byte = [&](size_t i) { return static_cast<uint8_t>(received_[i]); };
      size_t length = byte(1) & 0x7F;
      size_t header = 2;
      if (length == 126 && received_.size() >= 4) {
        length = (size_t{byte(2)} << 8) | byte(3);
        header = 4;
      } else if (length == 127) {
        ADD_FAILURE() << "a frame past 64 KiB";
        return std::nullopt;
      }
      if (length != 126 && received_.size() >= header + length) {
        Frame frame{byte(0) & 0x0F, (byte(0) & 0x80) != 0, received_.substr(header, length)};
        received_.erase(0, header + length);
        return frame;
      }
    }
    if (Clock::now() >= deadline || !ReceiveSome(deadline)) return std::nullopt;
  }
}

bool RawConnection::ReceiveSome(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  pollfd poll_fd{fd_, POLLIN, 0};
  if (::poll(&poll_fd, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) {
    return true;
  }
  char buffer[4096];
  const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
  if (n <= 0) return false;
  received_.append(buffer, static_cast<size_t>(n));
  return true;
}

std::string ClientFrame(int opcode, bool fin, const std::string& payload) {
  const char key[4] = {'\x12', '\x34', '\x56', '\x78'};
  std::string frame;
  frame += static_cast<char>((fin ? 0x80 : 0) | opcode);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xFF);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int i = 0; i < 8; ++i)
      frame += static_cast<char>(uint64_t{payload.size()} >> (56 - 8 * i));
  }
  frame.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ key[i % 4]);
  return frame;
}

std::string UpgradeRequest(const std::string& target, const std::string& extra_headers,
                           const std::string& version) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: " +
         version + "\r\n" + extra_headers + "\r\n";
}

}  // namespace nb::testing
