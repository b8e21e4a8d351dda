#include "ws-frontend/src/websocket_session.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "common/log.h"
#include "common/topic.h"

namespace nb::frontend {

namespace asio = boost::asio;
namespace device = northbound::device::v1;
namespace auth = northbound::auth::v1;
using northbound::common::v1::ErrorCode;
using Clock = std::chrono::steady_clock;

namespace {

// At most this much of the queue goes into one write (one frame more when it is larger).
constexpr size_t kWriteBatchBytes = 64 * 1024;
// A queue starts with room for a few small frames.
constexpr size_t kFirstQueueBytes = 512;
}  // namespace

WebsocketSession::WebsocketSession(ClientStream stream, FrontendContext& context, std::string token,
                                   std::string subprotocol)
    : stream_(std::move(stream)),
      strand_(*stream_.get_executor().target<Strand>()),
      context_(context),
      token_(std::move(token)),
      subprotocol_(std::move(subprotocol)),
      reader_(context.limits.max_frame_bytes),
      idle_timer_(strand_),
      rate_(context.limits.frames_per_second, context.limits.frame_burst) {}

WebsocketSession::~WebsocketSession() = default;

void WebsocketSession::Run(std::string key) {
  asio::dispatch(strand_, [self = shared_from_this(), key = std::move(key)] {
    // RFC 6455 §4.2.2. No extension is offered back, so none is in force.
    std::string answer = absl::StrCat(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ",
        WebsocketAcceptFor(key), "\r\nServer: northbound-ws-frontend\r\n");
    if (!self->subprotocol_.empty()) {
      absl::StrAppend(&answer, "Sec-WebSocket-Protocol: ", self->subprotocol_, "\r\n");
    }
    answer += "\r\n";
    self->stream_.Send(std::move(answer),
                       [self](boost::system::error_code error, size_t) { self->OnAccept(error); });
  });
}

void WebsocketSession::OnAccept(boost::system::error_code error) {
  if (error) return;  // The handshake failed; the socket closes with this object.
  context_.registry.Add(shared_from_this());
  context_.metrics->connections().Increment();
  accepted_ = true;
  ArmIdleTimer();
  if (closing_) {
    // A drain began during the handshake.
    closing_ = false;
    return Close(1001, "server shutting down", false);
  }
  // Until the first answer nothing else holds the session (it reads only once
  // authenticated), so the answer's callback does; the auth client's deadline bounds it.
  // The reference moves into the strand's handler, so the session ends there.
  context_.auth->Validate(
      token_, false, [self = shared_from_this(), strand = strand_](auto result) mutable {
        asio::post(strand, [self = std::move(self), result = std::move(result)]() mutable {
          self->OnValidated(std::move(result), true);
        });
      });
}

void WebsocketSession::OnValidated(absl::StatusOr<auth::ValidateTokenResponse> result,
                                   bool initial) {
  if (finished_ || closing_) return;
  if (!result.ok()) {
    if (!initial)
      return;  // Sessions already authenticated keep working while auth-service is away.
    Send(ErrorFrame(std::nullopt, std::nullopt, ErrorCode::SERVER_NOT_AVAILABLE,
                    "auth-service is not available; try again later"),
         "error");
    context_.metrics->CountError(ErrorCode::SERVER_NOT_AVAILABLE);
    return Close(1013, "try again later", true);
  }
  if (result->status() != auth::VALID) {
    log::Info("session refused", {{"client", result->principal().client_id()},
                                  {"hint", log::SecretHint(token_)},
                                  {"reason", auth::TokenStatus_Name(result->status())}});
    Send(AuthErrorFrame(initial ? "invalid token" : "token revoked"), "authError");
    return Close(1008, initial ? "invalid token" : "token revoked", true);
  }
  client_id_ = result->principal().client_id();
  permissions_ = result->principal().permissions();
  if (initial) {
    authenticated_ = true;
    DoRead();
  }
}

void WebsocketSession::Revalidate(std::optional<std::string> only_client_id) {
  asio::post(strand_, [self = shared_from_this(), only_client_id = std::move(only_client_id)] {
    if (self->finished_ || self->closing_ || !self->authenticated_) return;
    if (only_client_id && *only_client_id != self->client_id_) return;
    std::weak_ptr<WebsocketSession> weak = self;
    self->context_.auth->Validate(self->token_, true, [weak, strand = self->strand_](auto result) {
      asio::post(strand, [weak, result = std::move(result)]() mutable {
        if (auto alive = weak.lock()) alive->OnValidated(std::move(result), false);
      });
    });
  });
}

void WebsocketSession::Shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->finished_) return;
    if (!self->accepted_) {
      self->closing_ = true;  // OnAccept closes with 1001.
      return;
    }
    self->Close(1001, "server shutting down", true);
  });
}

void WebsocketSession::HandleText(std::string_view text) {
  std::variant<ClientFrame, FrameError> parsed =
      ParseClientFrame(absl::string_view(text.data(), text.size()));
  const auto now = Clock::now();
  if (!rate_.Allow(now)) {
    // An episode of abuse starts after a second without limiting; 10 s of it closes.
    if (!limited_since_ || now - last_limited_ > std::chrono::seconds(1)) limited_since_ = now;
    last_limited_ = now;
    if (now - *limited_since_ >= context_.limits.rate_abuse_window) {
      return Close(4029, "rate limit exceeded for too long", false);
    }
    std::optional<std::string> id;
    bool sub_with_id = false;
    if (auto* frame = std::get_if<ClientFrame>(&parsed)) {
      if (auto* sub = std::get_if<SubFrame>(frame)) {
        id = sub->id;
        sub_with_id = !ids_.contains(sub->id);
      } else if (auto* ping = std::get_if<PingFrame>(frame)) {
        id = ping->id;
      } else {
        id = std::get<UnsubFrame>(*frame).id;
      }
    }
    context_.metrics->CountFrameIn("invalid");
    return Reject(id, std::nullopt, ErrorCode::RATE_LIMITED,
                  "too many frames per second; slow down", sub_with_id);
  }
  if (auto* error = std::get_if<FrameError>(&parsed)) {
    context_.metrics->CountFrameIn("invalid");
    if (error->is_sub && error->id && ids_.contains(*error->id)) {
      return Reject(error->id, error->topic, ErrorCode::DUPLICATE_ID,
                    "a subscription with this id is live", false);
    }
    return Reject(error->id, error->topic, error->code, error->message, error->is_sub && error->id);
  }
  ClientFrame& frame = std::get<ClientFrame>(parsed);
  context_.metrics->CountFrameIn(std::string(FrameTypeName(frame)));
  if (auto* sub = std::get_if<SubFrame>(&frame)) return HandleSub(std::move(*sub));
  if (auto* unsub = std::get_if<UnsubFrame>(&frame)) return HandleUnsub(*unsub);
  Send(PongFrame(std::get<PingFrame>(frame).id), "pong");
}

void WebsocketSession::Reject(const std::optional<std::string>& id,
                              const std::optional<std::string>& topic, ErrorCode code,
                              absl::string_view message, bool complete) {
  context_.metrics->CountError(code);
  Send(ErrorFrame(id, topic, code, message), "error");
  if (complete && id) Send(CompleteFrame(*id, topic.value_or("")), "complete");
}

void WebsocketSession::Send(absl::string_view frame, const char* type, bool event) {
  if (finished_ || closing_) return;
  context_.metrics->CountFrameOut(type);
  queued_bytes_ += frame.size();
  context_.metrics->queued_bytes().Increment(static_cast<double>(frame.size()));
  if (tail_bytes_ > 0 && tail_bytes_ + frame.size() > kWriteBatchBytes) {
    cuts_.push_back(BatchCut{queue_.size(), tail_bytes_});
    tail_bytes_ = 0;
  }
  if (queue_.capacity() < kFirstQueueBytes) queue_.reserve(kFirstQueueBytes);
  AppendServerTextFrame(queue_, frame);
  tail_bytes_ += frame.size();
  if (queued_bytes_ > context_.limits.outbound_limit_bytes) {
    return Close(4008, "slow consumer: outbound queue full", false);
  }
  if (queued_bytes_ > context_.limits.outbound_limit_bytes / 2 && !above_high_water_since_) {
    above_high_water_since_ = Clock::now();
    ArmSlowTimer();
  }
  if (writing_ || write_posted_) return;
  // Events wait for the ones after them, unless they fill half of what a client may have
  // queued before its events are held back.
  if (event && context_.limits.event_linger.count() > 0 &&
      queued_bytes_ <= context_.limits.event_backlog_bytes / 2) {
    if (!std::exchange(lingering_, true)) {
      asio::steady_timer& timer = TimerOf(linger_timer_);
      timer.expires_after(context_.limits.event_linger);
      timer.async_wait([self = shared_from_this()](boost::system::error_code error) {
        if (error || !self->lingering_) return;
        self->lingering_ = false;
        if (!self->writing_ && !self->write_posted_) self->DoWrite();
      });
    }
    return;
  }
  // The write starts once the strand is done with what it is doing, so that what that work
  // sends (a result and its complete, a burst of events) leaves together.
  write_posted_ = true;
  asio::post(strand_, [self = shared_from_this()] {
    self->write_posted_ = false;
    self->DoWrite();
  });
}

asio::steady_timer& WebsocketSession::TimerOf(std::unique_ptr<asio::steady_timer>& timer) {
  if (!timer) timer = std::make_unique<asio::steady_timer>(strand_);
  return *timer;
}

void WebsocketSession::ArmSlowTimer() {
  // Each start of a wait re-arms the timer for the earliest (a wait left from an earlier
  // one is cancelled).
  std::optional<Clock::time_point> since = above_high_water_since_;
  if (events_held_since_ && (!since || *events_held_since_ < *since)) since = events_held_since_;
  if (!since) return;
  asio::steady_timer& timer = TimerOf(slow_timer_);
  timer.expires_at(*since + context_.limits.slow_consumer_after);
  timer.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (!error) self->CheckSlowConsumer();
  });
}

void WebsocketSession::DoWrite() {
  // Each batch the connection takes whole leaves at once, and the next is taken; only what it
  // does not take waits for it (OnWrite).
  while (!writing_ && !finished_) {
    if (queue_.size() == queue_head_) {
      if (pending_close_) DoClose();
      return;
    }
    // Our close is out (an answer to the client's, or a protocol failure's): no frame may
    // follow it.
    if (close_out_) return;
    std::string batch = TakeBatch();
    const size_t written = stream_.WriteNow(batch);
    if (written < batch.size()) {
      batch.erase(0, written);
      stream_.Send(std::move(batch),
                   [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                     self->OnWrite(error);
                   });
      return;
    }
    if (!Written({})) return;
  }
}

std::string WebsocketSession::TakeBatch() {
  writing_ = true;
  // Whatever lingered leaves with this write; the timer, if it fires, finds nothing to do.
  lingering_ = false;
  // Every queued frame, up to a batch, leaves in one write; control frames go between
  // batches (ClientStream).
  std::string batch;
  if (cuts_.empty()) {
    // The rest of the queue: all of it, without a copy, unless batches were taken from it.
    if (queue_head_ == 0) {
      batch.swap(queue_);
    } else {
      batch.assign(queue_, queue_head_);
      queue_.clear();
      queue_head_ = 0;
    }
    writing_bytes_ = std::exchange(tail_bytes_, 0);
    return batch;
  }
  // Behind a slow reader only. What is written is dropped from the queue's front once it
  // is half of it, so each byte moves at most once.
  const BatchCut cut = cuts_.front();
  cuts_.pop_front();
  batch.assign(queue_, queue_head_, cut.end - queue_head_);
  queue_head_ = cut.end;
  writing_bytes_ = cut.frame_bytes;
  if (queue_head_ * 2 >= queue_.size()) {
    queue_.erase(0, queue_head_);
    for (BatchCut& later : cuts_) later.end -= queue_head_;
    queue_head_ = 0;
  }
  return batch;
}

void WebsocketSession::OnWrite(boost::system::error_code error) {
  if (Written(error)) DoWrite();
}

bool WebsocketSession::Written(boost::system::error_code error) {
  writing_ = false;
  // Finish already let go of the queue and its count.
  if (finished_) return false;
  if (error) {
    Finish();
    return false;
  }
  queued_bytes_ -= writing_bytes_;
  context_.metrics->queued_bytes().Decrement(static_cast<double>(writing_bytes_));
  writing_bytes_ = 0;
  if (queue_.size() == queue_head_) {
    std::string().swap(queue_);
    queue_head_ = 0;
    cuts_.shrink_to_fit();
  }
  if (queued_bytes_ <= context_.limits.outbound_limit_bytes / 4) above_high_water_since_.reset();
  if (queued_bytes_ <= context_.limits.event_backlog_bytes / 2) events_held_since_.reset();
  // A resumed call may deliver what it already holds at once, which starts the next write:
  // the caller starts one only if none is.
  if (!paused_.empty()) ResumePaused();
  return true;
}

void WebsocketSession::CheckSlowConsumer() {
  // Drained again, or gone. A wait that had already fired when a new wait began finds too
  // little time; the new one armed the timer again.
  if (finished_ || closing_) return;
  const Clock::time_point now = Clock::now();
  const auto slow = context_.limits.slow_consumer_after;
  if ((above_high_water_since_ && now - *above_high_water_since_ >= slow) ||
      (events_held_since_ && now - *events_held_since_ >= slow)) {
    Close(4008, "slow consumer: not reading", false);
  }
}

void WebsocketSession::Finish() {
  if (finished_) return;
  finished_ = true;
  for (auto& [call_id, subscription] : calls_) subscription.call->Cancel();
  while (!calls_.empty()) EndSubscription(calls_.begin()->first);
  if (slow_timer_) slow_timer_->cancel();
  if (close_timer_) close_timer_->cancel();
  if (linger_timer_) linger_timer_->cancel();
  idle_timer_.cancel();
  context_.metrics->queued_bytes().Decrement(static_cast<double>(queued_bytes_));
  queued_bytes_ = 0;
  std::string().swap(queue_);
  queue_head_ = 0;
  cuts_.clear();
  tail_bytes_ = 0;
  if (accepted_) {
    context_.registry.Remove(this);
    context_.metrics->connections().Decrement();
  }
  stream_.Close();
}

}  // namespace nb::frontend
