// libFuzzer target: a client's bytes after the upgrade through the WebSocket reader, as
// ws-frontend reads every connection (RFC 6455 §5). The first byte of the input picks the
// size of the pieces the rest arrives in; the reader must hand over the same messages, or
// fail with the same close code, however the bytes are cut.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "ws-frontend/src/websocket_wire.h"

namespace {

using nb::frontend::WebsocketReader;
using nb::frontend::WsOpcode;

struct Outcome {
  std::vector<std::pair<WsOpcode, std::string>> messages;
  uint16_t failed_with = 0;
};

Outcome ReadInPieces(const std::string& bytes, size_t piece) {
  WebsocketReader reader(4096);
  Outcome outcome;
  for (size_t at = 0; at < bytes.size() && !reader.failure(); at += piece) {
    std::string chunk = bytes.substr(at, piece);
    size_t used = 0;
    while (used < chunk.size() && !reader.failure()) {
      std::optional<WebsocketReader::Message> message;
      const size_t took = reader.Read(chunk.data() + used, chunk.size() - used, message);
      // Until it fails, the reader takes every byte, a message's worth at a time.
      if (took == 0 && !reader.failure()) std::abort();
      used += took;
      if (!message) continue;
      if (message->opcode == WsOpcode::kText && !nb::frontend::IsUtf8(message->payload)) {
        std::abort();
      }
      if (message->opcode != WsOpcode::kClose && message->close_code) std::abort();
      outcome.messages.emplace_back(message->opcode, std::string(message->payload));
    }
  }
  if (reader.failure()) outcome.failed_with = reader.failure()->close_code;
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = ReadInPieces(bytes, bytes.size() + 1);
  const Outcome cut = ReadInPieces(bytes, piece);
  if (whole.failed_with != cut.failed_with || whole.messages != cut.messages) std::abort();
  return 0;
}
