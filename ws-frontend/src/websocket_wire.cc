#include "ws-frontend/src/websocket_wire.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace nb::frontend {

namespace {

// RFC 6455 §1.3: what the key is joined with before hashing.
constexpr absl::string_view kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// A control frame's payload (§5.5), and what of it a close reason may fill.
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxCloseReason = kMaxControlPayload - 2;

bool IsControl(WsOpcode opcode) { return static_cast<uint8_t>(opcode) >= 0x8; }

bool IsKnownOpcode(uint8_t opcode) {
  switch (static_cast<WsOpcode>(opcode)) {
    case WsOpcode::kContinuation:
    case WsOpcode::kText:
    case WsOpcode::kBinary:
    case WsOpcode::kClose:
    case WsOpcode::kPing:
    case WsOpcode::kPong:
      return true;
  }
  return false;
}

// The close codes a client may send (§7.4): the defined ones that may appear on the wire,
// and those for libraries and applications. 1004, 1005, 1006 and 1015 never travel.
bool IsSendableCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

uint64_t BigEndian(const char* bytes, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

}  // namespace

bool IsWebsocketKey(absl::string_view key) {
  std::string decoded;
  return key.size() == 24 && absl::Base64Unescape(key, &decoded) && decoded.size() == 16;
}

std::string WebsocketAcceptFor(absl::string_view key) {
  const std::string joined = absl::StrCat(key, kHandshakeGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &digest_size, EVP_sha1(), nullptr);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(digest), digest_size));
}

void AppendServerFrame(std::string& out, WsOpcode opcode, absl::string_view payload) {
  char header[kMaxServerFrameHeaderBytes];
  size_t header_size = 2;
  header[0] = static_cast<char>(0x80 | static_cast<uint8_t>(opcode));  // FIN.
  const uint64_t size = payload.size();
  if (size < 126) {
    header[1] = static_cast<char>(size);
  } else if (size <= 0xffff) {
    header[1] = 126;  // A 16-bit length follows, in network order.
    header[2] = static_cast<char>(size >> 8);
    header[3] = static_cast<char>(size);
    header_size = 4;
  } else {
    header[1] = 127;  // A 64-bit length follows, in network order.
    for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<char>(size >> (56 - 8 * i));
    header_size = 10;
  }
  out.append(header, header_size);
  out.append(payload.data(), payload.size());
}

std::string ServerCloseFrame(std::optional<uint16_t> code, absl::string_view reason) {
  std::string payload;
  if (code) {
    reason = Utf8Prefix(reason, kMaxCloseReason);
    payload.push_back(static_cast<char>(*code >> 8));
    payload.push_back(static_cast<char>(*code & 0xFF));
    payload.append(reason.data(), reason.size());
  }
  std::string frame;
  AppendServerFrame(frame, WsOpcode::kClose, payload);
  return frame;
}

bool IsUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    int more;
    uint32_t code_point;
    uint32_t least;
    if ((*p & 0xE0) == 0xC0) {
      more = 1, code_point = *p & 0x1F, least = 0x80;
    } else if ((*p & 0xF0) == 0xE0) {
      more = 2, code_point = *p & 0x0F, least = 0x800;
    } else if ((*p & 0xF8) == 0xF0) {
      more = 3, code_point = *p & 0x07, least = 0x10000;
    } else {
      return false;
    }
    if (end - p <= more) return false;
    for (int i = 1; i <= more; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (p[i] & 0x3F);
    }
    if (code_point < least || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    p += more + 1;
  }
  return true;
}

bool WebsocketReader::Fail(uint16_t code, const char* reason) {
  failure_ = Failure{code, reason};
  return false;
}

bool WebsocketReader::ReadHeader(const char* data, size_t size, size_t& used) {
  while (true) {
    size_t need = 2;
    if (header_size_ >= 2) {
      const uint8_t length = header_[1] & 0x7F;
      need += (length == 126 ? 2 : length == 127 ? 8 : 0) + 4;
    }
    if (header_size_ == need) break;
    const size_t take = std::min(need - header_size_, size - used);
    if (take == 0) return false;
    std::copy_n(data + used, take, header_ + header_size_);
    header_size_ += take;
    used += take;
    if (header_size_ != 2) continue;
    // The first two bytes say what the frame is: check it before its length and mask.
    const uint8_t first = header_[0];
    const uint8_t second = header_[1];
    if ((first & 0x70) != 0) return Fail(1002, "reserved bits set");
    if (!IsKnownOpcode(first & 0x0F)) return Fail(1002, "unknown opcode");
    if ((second & 0x80) == 0) return Fail(1002, "client frames must be masked");
    fin_ = (first & 0x80) != 0;
    opcode_ = static_cast<WsOpcode>(first & 0x0F);
    if (IsControl(opcode_)) {
      if (!fin_) return Fail(1002, "fragmented control frame");
      if ((second & 0x7F) > kMaxControlPayload) return Fail(1002, "control frame too long");
    } else if (opcode_ == WsOpcode::kContinuation) {
      if (!message_opcode_) return Fail(1002, "continuation frame with no message begun");
    } else if (message_opcode_) {
      return Fail(1002, "new message inside a fragmented one");
    }
  }
  const uint8_t length = header_[1] & 0x7F;
  uint64_t payload = length;
  if (length == 126) {
    payload = BigEndian(header_ + 2, 2);
    if (payload < 126) return Fail(1002, "frame length not in its shortest form");
  } else if (length == 127) {
    payload = BigEndian(header_ + 2, 8);
    if (payload >> 63) return Fail(1002, "frame length out of range");
    if (payload <= 0xFFFF) return Fail(1002, "frame length not in its shortest form");
  }
  if (!IsControl(opcode_)) {
    if (payload > max_message_bytes_ - message_size_) return Fail(1009, "message too big");
    message_size_ += payload;
    if (opcode_ != WsOpcode::kContinuation) message_opcode_ = opcode_;
  }
  std::copy_n(header_ + header_size_ - 4, 4, mask_);
  mask_at_ = 0;
  payload_left_ = payload;
  header_done_ = true;
  return true;
}

size_t WebsocketReader::Read(char* data, size_t size, std::optional<Message>& message) {
  message.reset();
  Release();
  size_t used = 0;
  while (!failure_ && !message) {
    if (!header_done_) {
      kept_ = false;
      if (!ReadHeader(data, size, used)) return used;
    }
    char* payload = data + used;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(payload_left_, size - used));
    for (size_t i = 0; i < take; ++i) payload[i] ^= mask_[(mask_at_ + i) & 3];
    mask_at_ = static_cast<uint8_t>((mask_at_ + take) & 3);
    used += take;
    payload_left_ -= take;
    const absl::string_view piece(payload, take);
    if (payload_left_ > 0) {
      // The frame goes on in a later call: keep what came of it.
      std::string& keep = IsControl(opcode_) ? control_ : joined_;
      keep.append(piece.data(), piece.size());
      kept_ = true;
      return used;
    }
    header_done_ = false;
    header_size_ = 0;
    EndFrame(piece, message);
  }
  return used;
}

void WebsocketReader::EndFrame(absl::string_view last, std::optional<Message>& message) {
  if (IsControl(opcode_)) {
    absl::string_view payload = last;
    if (kept_) {
      control_.append(last.data(), last.size());
      handed_.swap(control_);
      payload = handed_;
    }
    if (opcode_ != WsOpcode::kClose) {
      message = Message{opcode_, payload, std::nullopt};
      return;
    }
    if (payload.empty()) {
      message = Message{WsOpcode::kClose, {}, std::nullopt};
      return;
    }
    if (payload.size() == 1) {
      Fail(1002, "close frame with a one-byte body");
      return;
    }
    const auto code = static_cast<uint16_t>(BigEndian(payload.data(), 2));
    if (!IsSendableCloseCode(code)) {
      Fail(1002, "close code not allowed");
      return;
    }
    const absl::string_view reason = payload.substr(2);
    if (!IsUtf8(reason)) {
      Fail(1007, "close reason is not UTF-8");
      return;
    }
    message = Message{WsOpcode::kClose, reason, code};
    return;
  }
  // A data frame: the message's last piece, or one more in the middle of it.
  absl::string_view payload = last;
  if (kept_ || !joined_.empty() || !fin_) {
    joined_.append(last.data(), last.size());
    if (!fin_) return;
    handed_.swap(joined_);
    payload = handed_;
  }
  const WsOpcode opcode = *message_opcode_;
  message_opcode_.reset();
  message_size_ = 0;
  if (opcode == WsOpcode::kText && !IsUtf8(payload)) {
    Fail(1007, "text message is not UTF-8");
    return;
  }
  message = Message{opcode, payload, std::nullopt};
}

}  // namespace nb::frontend
