#ifndef NORTHBOUND_WS_FRONTEND_WEBSOCKET_SESSION_H_
#define NORTHBOUND_WS_FRONTEND_WEBSOCKET_SESSION_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "boost/asio/steady_timer.hpp"
#include "boost/container/deque.hpp"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.pb.h"
#include "ws-frontend/src/client_stream.h"
#include "ws-frontend/src/frame_codec.h"
#include "ws-frontend/src/frontend_context.h"
#include "ws-frontend/src/rate_limiter.h"
#include "ws-frontend/src/streaming_call.h"
#include "ws-frontend/src/websocket_wire.h"

namespace nb::frontend {

// One client connection after the upgrade (docs/protocol.md): the WebSocket connection
// (RFC 6455: the handshake's answer, frames read with WebsocketReader and written past any
// library, pings, the close handshake), authentication, subscriptions (each a command or
// subscription on a device-service Commands stream), the outbound queue, limits, close
// codes.
// The connection half is in websocket_session.cc, the WebSocket protocol's in
// session_protocol.cc, the subscriptions in session_subscriptions.cc.
//
// Threads: everything runs on the connection's strand. Run, Revalidate and Shutdown may be
// called from any thread; they post. gRPC streams report through StreamSink on the strand.
class WebsocketSession : public std::enable_shared_from_this<WebsocketSession>,
                         public StreamSink<ReplyFrame>,
                         public StreamSink<EventFrame> {
 public:
  // `subprotocol`, when not empty, is the Sec-WebSocket-Protocol the handshake answers with.
  WebsocketSession(ClientStream stream, FrontendContext& context, std::string token,
                   std::string subprotocol = {});
  ~WebsocketSession() override;

  // Completes the upgrade of a request with Sec-WebSocket-Key `key` (checked by the HTTP
  // session), then authenticates.
  void Run(std::string key);
  // Asks auth-service again (a revocation concerned this client); closes with 1008 if the
  // token is no longer valid. With `only_client_id`, only a session of that client asks:
  // the comparison runs on the strand, which owns the session's client id.
  void Revalidate(std::optional<std::string> only_client_id = std::nullopt);
  // Graceful drain: close 1001.
  void Shutdown();

  void OnStreamMessage(uint64_t call_id, ReplyFrame reply) override;
  void OnStreamMessage(uint64_t call_id, EventFrame event) override;
  void OnStreamDone(uint64_t call_id, absl::Status status) override;

 private:
  struct Subscription {
    std::string id;
    std::string topic;
    bool command = true;
    std::shared_ptr<StreamHandle> call;
    std::chrono::steady_clock::time_point started;
  };

  void OnAccept(boost::system::error_code error);
  void OnValidated(absl::StatusOr<northbound::auth::v1::ValidateTokenResponse> result,
                   bool initial);
  // Reads while the session wants to (WantsRead): a plain connection waits for the socket
  // to be readable, with no buffer, then reads what is there into a per-thread buffer; a TLS
  // one reads into a buffer of its own.
  void DoRead();
  bool WantsRead() const;
  void OnReadable(boost::system::error_code error);
  void OnBytes(char* data, size_t size);
  void OnMessage(const WebsocketReader::Message& message);
  // A ping or pong, written at once, ahead of queued frames (§5.4 lets control frames go
  // between messages).
  void SendControl(WsOpcode opcode, absl::string_view payload);
  // Closes without the queued frames (the client closed, or broke the protocol): our close
  // frame with `code` after the batch being written, unless ours is out already; then the
  // connection ends once it is written.
  void CloseAtOnce(std::optional<uint16_t> code, absl::string_view reason);
  // The close frame, after what is being written. Then the client's close is awaited (read),
  // unless it came already or the client broke the protocol: then the connection ends.
  void SendClose(std::optional<uint16_t> code, absl::string_view reason);
  // Ends the connection after the close handshake: a plain one is half-closed and what the
  // client sent meanwhile dropped (so that it does not reset the connection before the
  // client has our close), a TLS one shut down. Then Finish.
  void Teardown();
  // Every half of --idle_timeout_seconds: pings a connection silent since the last tick but
  // one, drops one silent since the ping.
  void ArmIdleTimer();
  void HandleText(std::string_view text);
  void HandleSub(SubFrame sub);
  void HandleUnsub(const UnsubFrame& unsub);
  void Reject(const std::optional<std::string>& id, const std::optional<std::string>& topic,
              ErrorCode code, absl::string_view message, bool complete);
  void StartCommand(const SubFrame& sub, CommandPlan plan);
  void StartEvents(const SubFrame& sub, const EventPlan& plan);
  // The device-service stream this connection's commands and subscriptions use.
  CommandChannel& Commands();
  Subscription* FindCall(uint64_t call_id);
  void EndSubscription(uint64_t call_id);
  void AfterMessage(uint64_t call_id);

  // Queues a frame; its write starts once the strand is done with what it is doing. An
  // event frame (`event`) may instead wait up to --event_linger_ms for the frames after it.
  void Send(absl::string_view frame, const char* type, bool event = false);
  // Writes the queued frames past Beast, a batch per write, until the queue is empty or a
  // write has to wait for the connection.
  void DoWrite();
  // The next batch, counted as being written.
  std::string TakeBatch();
  void OnWrite(boost::system::error_code error);
  // A batch's write ended: its bytes are off the queue's count. False when the session
  // ended (a failed write ends it).
  bool Written(boost::system::error_code error);
  // The slow-consumer timer runs only while the queue is above its high-water mark or the
  // client's events are held back: Send and AfterMessage arm it when either begins.
  void ArmSlowTimer();
  // `timer`, made on the strand first.
  boost::asio::steady_timer& TimerOf(std::unique_ptr<boost::asio::steady_timer>& timer);
  void CheckSlowConsumer();
  // Resumes the paused calls whose queue mark the queue drained below.
  void ResumePaused();

  // Sends `code` after the queued frames (or at once, dropping them, when !flush).
  void Close(uint16_t code, absl::string_view reason, bool flush);
  // Closing begins: no more frames queued, every call ended, the queue dropped unless
  // `flush`.
  void StopSending(bool flush);
  // Drops the queued frames; only the batch being written still leaves.
  void DropQueue();
  void ArmCloseTimer();
  void DoClose();
  void Finish();

  // The connection: once upgraded, a bare socket or TLS. No permessage-deflate (the frontend
  // never offers it).
  ClientStream stream_;
  Strand strand_;
  FrontendContext& context_;
  const std::string token_;
  const std::string subprotocol_;
  WebsocketReader reader_;
  // A TLS connection's read buffer (made with its first read).
  std::unique_ptr<char[]> tls_read_buffer_;
  bool reading_ = false;
  boost::asio::steady_timer idle_timer_;
  // Idle timer ticks since the client last sent anything.
  uint8_t idle_ticks_ = 0;

  bool accepted_ = false;
  bool authenticated_ = false;
  std::string client_id_;
  northbound::auth::v1::Permissions permissions_;

  CommandChannel* commands_ = nullptr;
  uint64_t next_call_id_ = 1;
  absl::flat_hash_map<std::string, uint64_t> ids_;
  absl::flat_hash_map<uint64_t, Subscription> calls_;
  absl::flat_hash_set<uint64_t> paused_;

  // The queue: frames waiting to be written, already framed for the wire, back to back.
  // Each frame is copied once, into it, and a write takes it whole when it holds at most a
  // batch. Let go of when drained (OnWrite): an idle connection keeps no queue storage.
  std::string queue_;
  // Where the queue's unwritten frames begin (past batches already taken by writes).
  size_t queue_head_ = 0;
  // Where the queue is cut into writes when it holds more than a batch: the end of each
  // batch in `queue_` and its frames' bytes. Boost's deque allocates nothing until the
  // first cut, unlike std::deque.
  struct BatchCut {
    size_t end;
    size_t frame_bytes;
  };
  boost::container::deque<BatchCut> cuts_;
  // Frames' bytes after the last cut.
  size_t tail_bytes_ = 0;
  // Frames' bytes (their text, without the WebSocket header) in the queue and in the write
  // in flight: what the limits count.
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  size_t writing_bytes_ = 0;
  bool write_posted_ = false;
  // The queue holds event frames waiting for the linger timer (made when first armed).
  bool lingering_ = false;
  std::unique_ptr<boost::asio::steady_timer> linger_timer_;
  std::optional<std::chrono::steady_clock::time_point> above_high_water_since_;
  // Since when event subscriptions are paused (the queue passed event_backlog_bytes and has
  // not drained to half of it since).
  std::optional<std::chrono::steady_clock::time_point> events_held_since_;
  // Made when first armed, like the close timer: an idle session has neither.
  std::unique_ptr<boost::asio::steady_timer> slow_timer_;

  RateLimiter rate_;
  std::optional<std::chrono::steady_clock::time_point> limited_since_;
  std::chrono::steady_clock::time_point last_limited_;

  std::optional<uint16_t> pending_close_;
  std::string close_reason_;
  bool closing_ = false;
  // The close handshake: our close frame handed to the stream, then written; the client's
  // close frame received; the connection being torn down.
  bool close_out_ = false;
  bool close_sent_ = false;
  bool peer_closed_ = false;
  bool tearing_down_ = false;
  bool finished_ = false;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_WEBSOCKET_SESSION_H_
