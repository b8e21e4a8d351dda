#ifndef NORTHBOUND_WS_FRONTEND_WEBSOCKET_WIRE_H_
#define NORTHBOUND_WS_FRONTEND_WEBSOCKET_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

// The server's side of RFC 6455 on the wire: the handshake's accept key, the frames the
// server writes, and a reader of the frames a client sends. No I/O here: WebsocketSession
// moves the bytes.
namespace nb::frontend {

// Frame opcodes (RFC 6455 §5.2).
enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// True when `key` is a Sec-WebSocket-Key: the base64 of 16 bytes (§4.2.1).
bool IsWebsocketKey(absl::string_view key);
// The Sec-WebSocket-Accept that answers `key` (§4.2.2).
std::string WebsocketAcceptFor(absl::string_view key);

// A server's frame header: no mask, and up to 8 bytes of length after its 2.
inline constexpr size_t kMaxServerFrameHeaderBytes = 10;
// Appends `payload` to `out` as one unfragmented, unmasked frame, as a server sends it.
void AppendServerFrame(std::string& out, WsOpcode opcode, absl::string_view payload);
inline void AppendServerTextFrame(std::string& out, absl::string_view payload) {
  AppendServerFrame(out, WsOpcode::kText, payload);
}
// A close frame with `code` and `reason` (cut to fit a control frame's 125 bytes), or with
// no body when `code` is nullopt.
std::string ServerCloseFrame(std::optional<uint16_t> code, absl::string_view reason);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsUtf8(absl::string_view text);

// Reads the frames of one client connection (§5): checks each header, unmasks the payloads,
// joins fragmented messages, and hands over each whole message and control frame.
//
// What breaks the protocol fails the reader for good, with the close code to send:
// - 1002: reserved bits set, an unknown opcode, an unmasked frame, a fragmented or long
//   control frame, a continuation with no message begun (or a new message inside one), a
//   length not in its shortest form, a close body of one byte or with a code no endpoint
//   may send;
// - 1007: a text message or close reason that is not UTF-8;
// - 1009: a message past `max_message_bytes` (known from the frame headers, before the
//   payload arrives).
//
// Memory: a message that arrives whole in one call is handed over in place (the caller's
// bytes, unmasked); only one that spans calls is copied, into storage let go of after it
// was handed over (Release, or the next Read). An idle reader holds no heap memory.
class WebsocketReader {
 public:
  struct Message {
    WsOpcode opcode;  // kText, kBinary, kPing, kPong or kClose.
    // The message (text, binary, ping, pong) or the close reason. Valid until the next Read
    // or Release.
    absl::string_view payload;
    // kClose only: the code the client closed with, nullopt when its close had no body.
    std::optional<uint16_t> close_code;
  };
  struct Failure {
    uint16_t close_code;
    const char* reason;
  };

  explicit WebsocketReader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Reads from `data` (which it unmasks in place) up to the end of the next whole message or
  // control frame, and returns how many bytes it took. `message` is set when one ended
  // there; `failure()` when the bytes broke the protocol (the rest is not read).
  size_t Read(char* data, size_t size, std::optional<Message>& message);

  // Lets go of the storage of the message the last Read handed over, if it had any (the next
  // Read does too): a connection that falls silent after a large message keeps none of it.
  void Release() { std::string().swap(handed_); }

  const std::optional<Failure>& failure() const { return failure_; }
  // A data message has begun and not ended.
  bool in_message() const { return message_opcode_.has_value(); }

 private:
  // Takes the header's bytes from `data`; true once the header is whole and valid.
  bool ReadHeader(const char* data, size_t size, size_t& used);
  bool Fail(uint16_t code, const char* reason);
  // The frame's payload is all in: a message or control frame when it ends one.
  void EndFrame(absl::string_view in_place, std::optional<Message>& message);

  const size_t max_message_bytes_;
  std::optional<Failure> failure_;

  // The frame being read: its header (2 to 14 bytes), then its payload.
  char header_[14] = {};
  uint8_t header_size_ = 0;
  bool header_done_ = false;
  bool fin_ = false;
  WsOpcode opcode_ = WsOpcode::kContinuation;
  uint64_t payload_left_ = 0;
  char mask_[4] = {};
  uint8_t mask_at_ = 0;
  // Part of the frame's payload came in an earlier call and was kept.
  bool kept_ = false;

  // The data message being joined: its opcode, and its bytes so far when they span frames
  // or calls.
  std::optional<WsOpcode> message_opcode_;
  uint64_t message_size_ = 0;
  std::string joined_;
  // A control frame's payload, when it spans calls.
  std::string control_;
  // What the last Read handed over lives here (let go of on the next Read).
  std::string handed_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_WEBSOCKET_WIRE_H_
