// The WebSocket protocol's half of WebsocketSession (RFC 6455): reading the client's
// frames, pings both ways, the idle check, the close handshake from either side and the
// teardown after it. The handshake's answer, the token, frames in and out and backpressure
// are in websocket_session.cc; the subscriptions in session_subscriptions.cc. Everything
// here runs on the session's strand.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ws-frontend/src/websocket_session.h"

namespace nb::frontend {

namespace asio = boost::asio;
using northbound::common::v1::ErrorCode;

namespace {

constexpr auto kCloseHandshakeLimit = std::chrono::seconds(5);
// What one read takes: into a buffer per thread (plain connections), or the connection's
// own (TLS). A message that arrives whole in one read is handled where it was read.
constexpr size_t kReadBytes = 16 * 1024;
constexpr size_t kTlsReadBytes = 2048;
// A teardown reads at most this many times what the client sent after our close.
constexpr int kTeardownReads = 16;

// Used only within one handler, so one buffer per thread serves every connection.
char* ReadBuffer() {
  thread_local char buffer[kReadBytes];
  return buffer;
}
}  // namespace

bool WebsocketSession::WantsRead() const {
  if (finished_ || tearing_down_) return false;
  if (peer_closed_ || reader_.failure()) return false;
  // Frames are read once authenticated, or while the client's close is awaited.
  return authenticated_ || close_out_;
}

void WebsocketSession::DoRead() {
  if (reading_ || !WantsRead()) return;
  reading_ = true;
  if (stream_.is_tls()) {
    if (!tls_read_buffer_) tls_read_buffer_ = std::make_unique<char[]>(kTlsReadBytes);
    stream_.async_read_some(
        asio::buffer(tls_read_buffer_.get(), kTlsReadBytes),
        [self = shared_from_this()](boost::system::error_code error, size_t size) {
          self->reading_ = false;
          if (error) return self->Finish();
          self->OnBytes(self->tls_read_buffer_.get(), size);
          self->DoRead();
        });
    return;
  }
  // An idle connection holds no read buffer: only the wait.
  stream_.AsyncWaitReadable(
      [self = shared_from_this()](boost::system::error_code error) { self->OnReadable(error); });
}

void WebsocketSession::OnReadable(boost::system::error_code error) {
  reading_ = false;
  if (error) return Finish();
  char* const buffer = ReadBuffer();
  while (WantsRead()) {
    const size_t size = stream_.ReadNow(buffer, kReadBytes, error);
    if (error == asio::error::would_block || error == asio::error::try_again) break;
    if (error) return Finish();  // The client is gone.
    OnBytes(buffer, size);
    if (size < kReadBytes) break;
  }
  DoRead();
}

void WebsocketSession::OnBytes(char* data, size_t size) {
  idle_ticks_ = 0;
  size_t used = 0;
  while (used < size && WantsRead()) {
    std::optional<WebsocketReader::Message> message;
    used += reader_.Read(data + used, size - used, message);
    if (const auto& failure = reader_.failure()) {
      // The client broke the protocol: our close says how, and nothing more is read.
      if (!closing_) context_.metrics->CountClose(failure->close_code);
      return CloseAtOnce(failure->close_code, failure->reason);
    }
    if (message) {
      OnMessage(*message);
      reader_.Release();
    }
  }
}

void WebsocketSession::OnMessage(const WebsocketReader::Message& message) {
  switch (message.opcode) {
    case WsOpcode::kText:
      if (!closing_) HandleText(std::string_view(message.payload.data(), message.payload.size()));
      return;
    case WsOpcode::kBinary:
      if (closing_) return;
      context_.metrics->CountFrameIn("binary");
      return Reject(std::nullopt, std::nullopt, ErrorCode::UNSUPPORTED_MESSAGE,
                    "binary frames are not supported; send JSON text frames", false);
    case WsOpcode::kPing:
      if (!close_out_) SendControl(WsOpcode::kPong, message.payload);
      return;
    case WsOpcode::kClose:
      // The answer to our close, or the client closes first: ours answers with its code.
      peer_closed_ = true;
      return CloseAtOnce(message.close_code, "");
    default:
      return;  // A pong: that the client is there is all it says.
  }
}

void WebsocketSession::CloseAtOnce(std::optional<uint16_t> code, absl::string_view reason) {
  if (close_out_) {
    // Ours is out already: the handshake ends once it is written (SendClose's end).
    if (close_sent_) Teardown();
    return;
  }
  // After the batch being written; the frames still queued are dropped.
  if (closing_) {
    DropQueue();
  } else {
    StopSending(false);
  }
  pending_close_.reset();
  ArmCloseTimer();
  SendClose(code, reason);
}

void WebsocketSession::SendControl(WsOpcode opcode, absl::string_view payload) {
  std::string frame;
  AppendServerFrame(frame, opcode, payload);
  const size_t written = stream_.WriteNow(frame);
  if (written == frame.size()) return;
  frame.erase(0, written);
  stream_.Send(std::move(frame),
               [self = shared_from_this()](boost::system::error_code error, size_t) {
                 if (error) self->Finish();
               });
}

void WebsocketSession::SendClose(std::optional<uint16_t> code, absl::string_view reason) {
  close_out_ = true;
  stream_.Send(ServerCloseFrame(code, reason),
               [self = shared_from_this()](boost::system::error_code error, size_t) {
                 self->close_sent_ = true;
                 if (error) return self->Finish();
                 if (self->peer_closed_ || self->reader_.failure()) return self->Teardown();
                 self->DoRead();  // For the client's close (OnMessage).
               });
}

void WebsocketSession::Teardown() {
  if (tearing_down_ || finished_) return;
  tearing_down_ = true;
  if (stream_.is_tls()) {
    // No read is pending: the one that brought the close or the failure was not renewed.
    stream_.tls().async_shutdown(
        [self = shared_from_this()](boost::system::error_code) { self->Finish(); });
    return;
  }
  // Half-closed, so our close is followed by the end of the stream; what the client sent
  // meanwhile is read and dropped, so that closing does not reset the connection under our
  // close. What it sends after that resets it: a client that does not read learns so.
  stream_.ShutdownSend();
  boost::system::error_code error;
  for (int i = 0; i < kTeardownReads && !error; ++i)
    stream_.ReadNow(ReadBuffer(), kReadBytes, error);
  Finish();
}

void WebsocketSession::ArmIdleTimer() {
  idle_timer_.expires_after(context_.limits.idle_timeout / 2);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (error || self->finished_ || self->tearing_down_) return;
    // Reads reset the count: 1 is a tick with the client heard from since the one before.
    const uint8_t ticks = ++self->idle_ticks_;
    if (ticks >= 3) return self->Finish();  // Silent since the ping.
    if (ticks == 2 && !self->close_out_) self->SendControl(WsOpcode::kPing, "");
    self->ArmIdleTimer();
  });
}

void WebsocketSession::Close(uint16_t code, absl::string_view reason, bool flush) {
  if (closing_ || finished_) return;
  context_.metrics->CountClose(code);
  StopSending(flush);
  pending_close_ = code;
  close_reason_ = std::string(reason);
  ArmCloseTimer();
  if (!writing_) DoWrite();
}

void WebsocketSession::StopSending(bool flush) {
  closing_ = true;
  for (auto& [call_id, subscription] : calls_) subscription.call->Cancel();
  while (!calls_.empty()) EndSubscription(calls_.begin()->first);
  if (!flush) DropQueue();
}

void WebsocketSession::DropQueue() {
  context_.metrics->queued_bytes().Decrement(static_cast<double>(queued_bytes_ - writing_bytes_));
  queued_bytes_ = writing_bytes_;
  queue_.clear();
  queue_head_ = 0;
  cuts_.clear();
  tail_bytes_ = 0;
}

void WebsocketSession::ArmCloseTimer() {
  // A peer that neither reads nor answers the close loses the connection anyway.
  asio::steady_timer& timer = TimerOf(close_timer_);
  timer.expires_after(kCloseHandshakeLimit + context_.limits.slow_consumer_after);
  timer.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (error) return;
    self->Finish();
  });
}

void WebsocketSession::DoClose() {
  const uint16_t code = *pending_close_;
  pending_close_.reset();
  SendClose(code, close_reason_);
}

}  // namespace nb::frontend
