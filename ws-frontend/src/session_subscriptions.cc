// The subscription half of WebsocketSession: a `sub` planned into a device-service call,
// the call's messages turned into frames, `unsub`, and the end of each call. The
// connection half (handshake, token, frames in and out, backpressure) is in
// websocket_session.cc, the WebSocket protocol's (reads, pings, close) in session_protocol.cc.
// Everything here runs on the session's strand.
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/topic.h"
#include "ws-frontend/src/websocket_session.h"

namespace nb::frontend {

namespace device = northbound::device::v1;
using northbound::common::v1::ErrorCode;
using Clock = std::chrono::steady_clock;

void WebsocketSession::HandleSub(SubFrame sub) {
  if (ids_.contains(sub.id)) {
    return Reject(sub.id, sub.topic, ErrorCode::DUPLICATE_ID, "a subscription with this id is live",
                  false);
  }
  if (calls_.size() >= context_.limits.max_subscriptions) {
    return Reject(sub.id, sub.topic, ErrorCode::TOO_MANY_SUBSCRIPTIONS,
                  absl::StrCat("at most ", context_.limits.max_subscriptions,
                               " live subscriptions per connection"),
                  true);
  }
  absl::StatusOr<SubPlan> plan = PlanSub(sub, permissions_);
  if (!plan.ok()) {
    return Reject(sub.id, sub.topic, ErrorCodeOf(plan.status()), plan.status().message(), true);
  }
  if (auto* command = std::get_if<CommandPlan>(&*plan))
    return StartCommand(sub, std::move(*command));
  StartEvents(sub, std::get<EventPlan>(*plan));
}

void WebsocketSession::StartCommand(const SubFrame& sub, CommandPlan plan) {
  const std::string& product = plan.request.product_key();
  for (const std::string& device_key : plan.denied_devices) {
    context_.metrics->CountError(ErrorCode::PERMISSION_DENIED);
    Send(DeviceErrorFrame(sub.id, absl::StrCat(kSenderTopicPrefix, product, "/", device_key),
                          device_key, ErrorCode::PERMISSION_DENIED,
                          "this client may not touch this device"),
         "error");
  }
  const uint64_t call_id = next_call_id_++;
  Subscription& subscription = calls_[call_id];
  subscription.id = sub.id;
  subscription.topic = sub.topic;
  subscription.command = true;
  subscription.started = Clock::now();
  ids_[sub.id] = call_id;
  context_.metrics->subscriptions("command").Increment();
  // A message on a long-lived stream, carrying the client's token: device-service checks
  // it per command, as it would a Send's.
  subscription.call =
      Commands().Start(strand_, std::weak_ptr<StreamSink<ReplyFrame>>(shared_from_this()), call_id,
                       sub.id, std::move(plan.request), token_);
}

void WebsocketSession::StartEvents(const SubFrame& sub, const EventPlan& plan) {
  const uint64_t call_id = next_call_id_++;
  Subscription& subscription = calls_[call_id];
  subscription.id = sub.id;
  subscription.topic = sub.topic;
  subscription.command = false;
  subscription.started = Clock::now();
  ids_[sub.id] = call_id;
  context_.metrics->subscriptions("event").Increment();
  device::SubscribeRequest request;
  request.set_topic(plan.pattern);
  // On the same kind of long-lived stream as commands, with the client's token:
  // device-service checks it as it would a Subscribe's.
  subscription.call =
      Commands().Subscribe(strand_, std::weak_ptr<StreamSink<EventFrame>>(shared_from_this()),
                           call_id, sub.id, std::move(request), token_);
}

CommandChannel& WebsocketSession::Commands() {
  // One stream for all of the connection's subscriptions and commands, so device-service
  // takes them in the order the client sent them.
  if (commands_ == nullptr) commands_ = &context_.devices->NextCommands();
  return *commands_;
}

void WebsocketSession::HandleUnsub(const UnsubFrame& unsub) {
  auto it = ids_.find(unsub.id);
  // Not live (never was, or already complete): its complete was already sent.
  if (it == ids_.end()) return;
  const uint64_t call_id = it->second;
  Subscription& subscription = calls_.at(call_id);
  subscription.call->Cancel();
  Send(CompleteFrame(subscription.id, subscription.topic), "complete");
  EndSubscription(call_id);
}

WebsocketSession::Subscription* WebsocketSession::FindCall(uint64_t call_id) {
  auto it = calls_.find(call_id);
  return it == calls_.end() ? nullptr : &it->second;
}

void WebsocketSession::EndSubscription(uint64_t call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  context_.metrics->subscriptions(it->second.command ? "command" : "event").Decrement();
  ids_.erase(it->second.id);
  paused_.erase(call_id);
  calls_.erase(it);
}

void WebsocketSession::OnStreamMessage(uint64_t call_id, ReplyFrame reply) {
  Subscription* subscription = FindCall(call_id);
  if (subscription == nullptr || closing_) return;
  const bool failed = reply.code != ErrorCode::ERROR_CODE_UNSPECIFIED;
  if (failed) context_.metrics->CountError(reply.code);
  Send(reply.text, failed ? "error" : "result");
  AfterMessage(call_id);
}

void WebsocketSession::OnStreamMessage(uint64_t call_id, EventFrame event) {
  Subscription* subscription = FindCall(call_id);
  if (subscription == nullptr || closing_) return;
  Send(event.text, "result", true);
  AfterMessage(call_id);
}

void WebsocketSession::AfterMessage(uint64_t call_id) {
  Subscription* subscription = FindCall(call_id);
  if (subscription == nullptr) return;
  // Backpressure: past its mark a call is not resumed until the queue drains, so
  // device-service holds its messages (a command's replies wait in its inbox; an event
  // subscription gets no credit, and device-service drops its oldest events). Events stop
  // far earlier than replies: a client that does not keep up gets fresh events late
  // rather than stale ones, and costs little memory.
  const SessionLimits& limits = context_.limits;
  if (queued_bytes_ <=
      (subscription->command ? limits.outbound_limit_bytes / 2 : limits.event_backlog_bytes)) {
    return subscription->call->Resume();
  }
  paused_.insert(call_id);
  if (!subscription->command && !events_held_since_) {
    // Held back this long, the client is not reading: 4008 (CheckSlowConsumer).
    events_held_since_ = Clock::now();
    ArmSlowTimer();
  }
}

void WebsocketSession::ResumePaused() {
  const SessionLimits& limits = context_.limits;
  const bool commands = queued_bytes_ <= limits.outbound_limit_bytes / 4;
  const bool events = queued_bytes_ <= limits.event_backlog_bytes / 2;
  if (!commands && !events) return;
  // A resumed call may deliver at once and pause again: work on a copy.
  absl::flat_hash_set<uint64_t> paused;
  paused.swap(paused_);
  for (uint64_t call_id : paused) {
    Subscription* subscription = FindCall(call_id);
    if (subscription == nullptr) continue;
    if (subscription->command ? commands : events) {
      subscription->call->Resume();
    } else {
      paused_.insert(call_id);
    }
  }
}

void WebsocketSession::OnStreamDone(uint64_t call_id, absl::Status status) {
  Subscription* subscription = FindCall(call_id);
  if (subscription == nullptr || closing_) return;
  context_.metrics->ObserveDeviceRpc(
      subscription->command ? "send" : "subscribe",
      std::chrono::duration<double>(Clock::now() - subscription->started).count());
  if (!status.ok()) {
    const ErrorCode code = ErrorCodeOf(status);
    std::string message(status.message());
    // Only device-service's own coded answers are shown; gRPC's text stays in the log.
    if (!HasErrorCode(status) || code == ErrorCode::SYSTEM_ERROR) {
      if (code == ErrorCode::SERVER_NOT_AVAILABLE) {
        message = "device-service is not available";
      } else {
        log::Error("device-service call failed",
                   {{"error", std::string(status.message().substr(0, 200))},
                    {"grpc_code", absl::StatusCodeToString(status.code())},
                    {"client", client_id_}});
        message = code == ErrorCode::TIME_OUT ? "device-service did not answer in time"
                                              : "internal error";
      }
    }
    Reject(subscription->id, subscription->topic, code, message, false);
  }
  Send(CompleteFrame(subscription->id, subscription->topic), "complete");
  EndSubscription(call_id);
}

}  // namespace nb::frontend
