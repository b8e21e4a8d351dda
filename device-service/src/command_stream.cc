#include "device-service/src/command_stream.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "common/permissions.h"
#include "common/status.h"
#include "common/topic.h"
#include "device-service/src/send_reactor.h"
#include "device-service/src/stream_items.h"

namespace nb::device {

namespace {

using Requests = devicepb::CommandRequests;
using Events = devicepb::CommandEvents;

// At most this much goes into one message: a fan-out's replies pack into a few large
// writes, far below gRPC's 4 MiB receive limit.
constexpr size_t kMaxPackedBytes = 1 << 20;

// The shared state of one Commands stream. Replies come from driver and timer threads,
// events from publishing threads, requests and write completions from gRPC. As in SendStream
// (send_reactor.cc), every decision is taken under `mu_` and StartWrite or Finish is called after
// unlocking: only the thread that set `finished_` calls Finish, and none writes after it.
class CommandHub final : public StoppableStream,
                         public StreamHost,
                         public std::enable_shared_from_this<CommandHub> {
 public:
  CommandHub(grpc::ServerBidiReactor<Requests, Events>* reactor,
             grpc::CallbackServerContext* context, const CommandServices& services)
      : reactor_(reactor),
        context_(context),
        dispatcher_(services.dispatcher),
        authorizer_(services.authorizer),
        bus_(services.bus),
        metrics_(services.metrics),
        subscriber_queue_(services.subscriber_queue) {}

  // What the caller sent: starts, cancels or credits each command or subscription in order.
  void Accept(Requests& requests) {
    for (devicepb::CommandRequest& request : *requests.mutable_requests()) {
      switch (request.action_case()) {
        case devicepb::CommandRequest::kCancel:
          Cancel(request.command_id());
          break;
        case devicepb::CommandRequest::kSend:
          Begin(request);
          break;
        case devicepb::CommandRequest::kSubscribe:
          BeginWatch(request);
          break;
        case devicepb::CommandRequest::kCredit:
          Credit(request.command_id(), request.credit());
          break;
        default:
          Refuse(request.command_id(),
                 ErrorStatus(ErrorCode::PARAMETER_ERROR,
                             "a CommandRequest needs send, subscribe, credit or cancel"));
      }
    }
  }

  // From a subscription's bus queue (a publishing thread): events are queued for it.
  void Fill(const StreamWatch* watch) {
    Next next;
    {
      MutexLock lock(mu_);
      auto it = watches_.find(watch->id());
      if (it == watches_.end() || it->second.watch.get() != watch) return;
      TakeEvents(it->first, it->second);
      next = Decide();
    }
    Act(next);
  }

  // The subscription is authorized: its events start flowing. False when it is no longer
  // live (cancelled or ended meanwhile).
  bool Activate(const StreamWatch* watch, std::shared_ptr<Subscription> subscription) {
    MutexLock lock(mu_);
    auto it = watches_.find(watch->id());
    if (it == watches_.end() || it->second.watch.get() != watch) return false;
    it->second.subscription = subscription;
    // Under the lock, so that a cancel cannot take it off the bus before it is on.
    bus_.Add(std::move(subscription));
    metrics_.SetSubscriptions(static_cast<double>(bus_.size()));
    return true;
  }

  void EndWatch(const StreamWatch* watch, const absl::Status& status) override {
    std::shared_ptr<StreamWatch> ended;
    Next next;
    {
      MutexLock lock(mu_);
      auto it = watches_.find(watch->id());
      if (it == watches_.end() || it->second.watch.get() != watch) return;
      ended = TakeWatch(it);
      PushEnd(watch->id(), status);
      next = Decide();
    }
    ended->Stop();
    Act(next);
  }

  void Emit(const StreamCommand* command, devicepb::SendReply reply) override {
    Next next;
    {
      MutexLock lock(mu_);
      if (!IsLive(command)) return;
      devicepb::CommandEvent& event = Append();
      event.set_command_id(command->id());
      *event.mutable_reply() = std::move(reply);
      next = Decide();
    }
    Act(next);
  }

  void End(StreamCommand* command, const absl::Status& status) override {
    std::shared_ptr<StreamCommand> ended;
    Next next;
    {
      MutexLock lock(mu_);
      if (!IsLive(command)) return;
      auto it = live_.find(command->id());
      ended = std::move(it->second);
      live_.erase(it);
      PushEnd(command->id(), status);
      next = Decide();
    }
    ended->Stop();
    Act(next);
  }

  // The caller half-closed: its subscriptions end (it can no longer cancel them), and the
  // stream finishes once its commands are over.
  void OnReadsDone() {
    std::vector<std::shared_ptr<StreamItem>> ended;
    Next next;
    {
      MutexLock lock(mu_);
      reads_done_ = true;
      ended = EndWatches(absl::OkStatus());
      next = Decide();
    }
    for (const auto& item : ended) item->Stop();
    Act(next);
  }

  void OnWriteDone(bool ok) {
    std::vector<std::shared_ptr<StreamItem>> stopped;
    Next next;
    {
      MutexLock lock(mu_);
      writing_ = false;
      // The caller is gone: nothing more can reach it.
      if (!ok) stopped = Abandon();
      next = Decide();
    }
    for (const auto& item : stopped) item->Stop();
    Act(next);
  }

  // The call was cancelled (the caller went away, or a deadline passed).
  void OnCancel() {
    std::vector<std::shared_ptr<StreamItem>> stopped;
    Next next;
    {
      MutexLock lock(mu_);
      stopped = Abandon();
      next = Decide();
    }
    for (const auto& item : stopped) item->Stop();
    Act(next);
  }

  // Shutdown: new commands and subscriptions are refused, live subscriptions end with
  // `status`; the stream ends once the live commands are over.
  void Stop(const absl::Status& status) override {
    std::vector<std::shared_ptr<StreamItem>> ended;
    Next next;
    {
      MutexLock lock(mu_);
      if (!stopping_) stopping_ = status;
      ended = EndWatches(status);
      next = Decide();
    }
    for (const auto& item : ended) item->Stop();
    Act(next);
  }

  // gRPC is done with the call; what is still live (nothing, unless the call failed) stops.
  void OnDone() {
    std::vector<std::shared_ptr<StreamItem>> stopped;
    {
      MutexLock lock(mu_);
      finished_ = true;
      stopped = Abandon();
    }
    for (const auto& item : stopped) item->Stop();
  }

 private:
  struct Next {
    WriteStep step = WriteStep::kNothing;
    absl::Status status;
  };

  // A live subscription: its bus subscription once authorized, and how many more events
  // the caller has room for.
  struct Watch {
    std::shared_ptr<StreamWatch> watch;
    std::shared_ptr<Subscription> subscription;
    uint32_t window = 0;
    uint32_t room = 0;
    devicepb::EventEncoding encoding = devicepb::EVENT_ENCODING_UNSPECIFIED;
    bool share = false;
    // Past the position (in appended_'s count) of its last message queued: a shared event
    // already queued before that would reach it out of order.
    uint64_t queued_end = 0;
  };
  using WatchMap = absl::flat_hash_map<uint64_t, Watch>;

  // Refuses a new id that is live, or one too many.
  std::optional<absl::Status> CheckNew(uint64_t id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopping_) {
      return ErrorStatus(ErrorCode::SERVER_NOT_AVAILABLE, "device-service is stopping");
    }
    if (live_.contains(id) || watches_.contains(id)) {
      return ErrorStatus(ErrorCode::DUPLICATE_ID, absl::StrCat(id, " is live on this stream"));
    }
    if (live_.size() + watches_.size() >= kMaxCommandsPerStream) {
      return ErrorStatus(ErrorCode::RATE_LIMITED,
                         absl::StrCat("at most ", kMaxCommandsPerStream,
                                      " commands and subscriptions may be live on one stream"));
    }
    return std::nullopt;
  }

  void BeginWatch(devicepb::CommandRequest& request) {
    const uint64_t id = request.command_id();
    const uint32_t window = request.subscribe().window();
    if (window > kMaxEventWindow) {
      return Refuse(id, ErrorStatus(ErrorCode::PARAMETER_ERROR,
                                    absl::StrCat("window must be 0..", kMaxEventWindow)));
    }
    const int encoding = request.subscribe().encoding();
    if (!devicepb::EventEncoding_IsValid(encoding)) {
      return Refuse(id, ErrorStatus(ErrorCode::PARAMETER_ERROR,
                                    absl::StrCat("unknown event encoding ", encoding)));
    }
    auto watch = std::make_shared<StreamWatch>(weak_from_this(), id);
    std::optional<absl::Status> refused;
    {
      MutexLock lock(mu_);
      refused = CheckNew(id);
      if (!refused) {
        Watch& entry = watches_[id];
        entry.watch = watch;
        entry.window = entry.room = window == 0 ? kDefaultEventWindow : window;
        entry.encoding = static_cast<devicepb::EventEncoding>(encoding);
        entry.share = request.subscribe().share_events();
      }
    }
    if (refused) return Refuse(id, *refused);
    // As for a command: the answer may come after the stream is gone.
    authorizer_.Authorize(
        request.token(), [this, watch, topic = request.subscribe().topic(),
                          self = weak_from_this()](absl::StatusOr<Caller> caller) {
          auto hub = self.lock();
          if (!hub) return;
          if (!caller.ok()) return EndWatch(watch.get(), caller.status());
          // The bus wakes the hub from publishing threads, weakly: a late wake finds nothing.
          std::weak_ptr<StreamWatch> weak_watch = watch;
          absl::StatusOr<std::shared_ptr<Subscription>> subscription = NewSubscription(
              *caller, topic, subscriber_queue_,
              [self, weak_watch] {
                auto hub = self.lock();
                auto watch = weak_watch.lock();
                if (hub && watch) hub->Fill(watch.get());
              },
              authorizer_);
          if (!subscription.ok()) return EndWatch(watch.get(), subscription.status());
          if (!watch->Track(*caller, *subscription, authorizer_, watch)) return;
          if (!Activate(watch.get(), *std::move(subscription))) watch->Stop();
        });
  }

  // The caller took `count` more events of subscription `id`.
  void Credit(uint64_t id, uint32_t count) {
    Next next;
    {
      MutexLock lock(mu_);
      auto it = watches_.find(id);
      if (it == watches_.end()) return;
      Watch& entry = it->second;
      // Never more room than the window: a caller's miscount cannot unbound the stream.
      entry.room = std::min<uint64_t>(uint64_t{entry.room} + count, entry.window);
      TakeEvents(id, entry);
      next = Decide();
    }
    Act(next);
  }

  // Moves the subscription's queued events to the stream while it has room, as the bytes
  // (or the JSON) the bus made once for all its subscriptions. A sharing subscription's event
  // that a queued message already carries for other sharing subscriptions of its encoding
  // is named there instead of going again (share_events), unless that would put it before
  // an earlier event of its own.
  void TakeEvents(uint64_t id, Watch& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (entry.subscription == nullptr) return;
    EventPtr event;
    uint64_t dropped;
    while (entry.room > 0 && entry.subscription->Pop(event, dropped)) {
      --entry.room;
      const bool share = entry.share && dropped == 0;
      SharedEvent* shared = share ? &SharedSlot(entry.encoding) : nullptr;
      if (shared != nullptr && shared->event == event && shared->position >= sent_ &&
          shared->position >= entry.queued_end) {
        out_[shared->position - sent_].add_more_command_ids(id);
        entry.queued_end = shared->position + 1;
        continue;
      }
      devicepb::CommandEvent& out = Append();
      out.set_command_id(id);
      if (entry.encoding == devicepb::JSON_MEMBERS) {
        SetJsonEvent(*out.mutable_event_json(), *event, dropped);
      } else {
        SetEncodedEvent(out, EncodedEvent(*event, dropped));
      }
      entry.queued_end = appended_;
      if (shared != nullptr) *shared = {std::move(event), entry.encoding, appended_ - 1};
    }
  }

  // A new message at the end of what is queued to go out.
  devicepb::CommandEvent& Append() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++appended_;
    return out_.emplace_back();
  }

  // The last shared event queued for sharing subscriptions of `encoding`.
  struct SharedEvent {
    EventPtr event;
    devicepb::EventEncoding encoding = devicepb::EVENT_ENCODING_UNSPECIFIED;
    uint64_t position = 0;  // Of its message, in appended_'s count.
  };
  SharedEvent& SharedSlot(devicepb::EventEncoding encoding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (SharedEvent& slot : shared_) {
      if (slot.encoding == encoding) return slot;
    }
    return shared_.emplace_back(SharedEvent{nullptr, encoding, 0});
  }

  // Forgets a live subscription and takes it off the bus; the caller stops it.
  std::shared_ptr<StreamWatch> TakeWatch(WatchMap::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::shared_ptr<StreamWatch> watch = std::move(it->second.watch);
    if (it->second.subscription != nullptr) {
      bus_.Remove(it->second.subscription.get());
      metrics_.SetSubscriptions(static_cast<double>(bus_.size()));
    }
    watches_.erase(it);
    return watch;
  }

  // Ends every live subscription with `status`; the caller stops them.
  std::vector<std::shared_ptr<StreamItem>> EndWatches(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<std::shared_ptr<StreamItem>> ended;
    while (!watches_.empty()) {
      const uint64_t id = watches_.begin()->first;
      ended.push_back(TakeWatch(watches_.begin()));
      PushEnd(id, status);
    }
    return ended;
  }

  void Begin(devicepb::CommandRequest& request) {
    const uint64_t id = request.command_id();
    auto command =
        std::make_shared<StreamCommand>(weak_from_this(), id, std::move(*request.mutable_send()));
    std::optional<absl::Status> refused;
    {
      MutexLock lock(mu_);
      refused = CheckNew(id);
      if (!refused) live_[id] = command;
    }
    if (refused) return Refuse(id, *refused);
    // The authorization's answer may come on another thread, after the stream is gone:
    // the command reaches the stream weakly, and the references are the service's.
    authorizer_.Authorize(
        request.token(), [this, command, self = weak_from_this()](absl::StatusOr<Caller> caller) {
          auto hub = self.lock();
          if (!hub) return;
          if (!caller.ok()) return End(command.get(), caller.status());
          if (absl::Status allowed = CheckSendAllowed(*caller->permissions, command->request());
              !allowed.ok()) {
            authorizer_.CountDenied();
            return End(command.get(), allowed);
          }
          command->Start(*std::move(caller), dispatcher_, authorizer_, command);
        });
  }

  void Cancel(uint64_t id) {
    std::shared_ptr<StreamItem> cancelled;
    {
      MutexLock lock(mu_);
      if (auto it = live_.find(id); it != live_.end()) {
        cancelled = std::move(it->second);
        live_.erase(it);
      } else if (auto watch = watches_.find(id); watch != watches_.end()) {
        cancelled = TakeWatch(watch);
      } else {
        return;
      }
    }
    cancelled->Stop();
    // The stream may have been waiting for its last command to end.
    Pump();
  }

  void Pump() {
    Next next;
    {
      MutexLock lock(mu_);
      next = Decide();
    }
    Act(next);
  }

  // Ends a command that never became live.
  void Refuse(uint64_t id, const absl::Status& status) {
    Next next;
    {
      MutexLock lock(mu_);
      PushEnd(id, status);
      next = Decide();
    }
    Act(next);
  }

  bool IsLive(const StreamCommand* command) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = live_.find(command->id());
    return it != live_.end() && it->second.get() == command;
  }

  void PushEnd(uint64_t id, const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    devicepb::CommandEvent& event = Append();
    event.set_command_id(id);
    devicepb::CommandEnd& end = *event.mutable_end();
    end.set_status(static_cast<int32_t>(status.code()));
    if (HasErrorCode(status)) end.set_code(ErrorCodeOf(status));
    end.set_message(std::string(status.message()));
  }

  // Forgets every live command and subscription and anything unsent; the caller stops them.
  std::vector<std::shared_ptr<StreamItem>> Abandon() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    abandoned_ = true;
    std::vector<std::shared_ptr<StreamItem>> items = EndWatches(absl::CancelledError("cancelled"));
    sent_ += out_.size();
    out_.clear();
    shared_.clear();
    items.reserve(items.size() + live_.size());
    for (auto& [id, command] : live_) items.push_back(std::move(command));
    live_.clear();
    return items;
  }

  Next Decide() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Next next;
    if (writing_ || finished_) return next;
    if (!out_.empty()) {
      // Everything ready goes in one message.
      current_.Clear();
      size_t bytes = 0;
      while (!out_.empty() && (current_.events_size() == 0 || bytes < kMaxPackedBytes)) {
        bytes += out_.front().ByteSizeLong();
        *current_.add_events() = std::move(out_.front());
        out_.pop_front();
        ++sent_;
      }
      writing_ = true;
      next.step = WriteStep::kWrite;
      return next;
    }
    if (abandoned_) {
      finished_ = true;
      next.step = WriteStep::kFinish;
      next.status = absl::CancelledError("cancelled");
    } else if ((reads_done_ || stopping_) && live_.empty() && watches_.empty()) {
      finished_ = true;
      next.step = WriteStep::kFinish;
      next.status = stopping_ ? *stopping_ : absl::OkStatus();
    }
    return next;
  }

  void Act(const Next& next) {
    if (next.step == WriteStep::kWrite) reactor_->StartWrite(&current_);
    if (next.step == WriteStep::kFinish) reactor_->Finish(ToGrpcStatus(next.status, *context_));
  }

  grpc::ServerBidiReactor<Requests, Events>* const reactor_;
  grpc::CallbackServerContext* const context_;
  CommandDispatcher& dispatcher_;
  Authorizer& authorizer_;
  EventBus& bus_;
  DeviceMetrics& metrics_;
  const size_t subscriber_queue_;
  Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<StreamCommand>> live_ ABSL_GUARDED_BY(mu_);
  WatchMap watches_ ABSL_GUARDED_BY(mu_);
  std::deque<devicepb::CommandEvent> out_ ABSL_GUARDED_BY(mu_);
  // Messages ever appended to `out_`, and ever taken off its front: out_[i] is the message
  // at position sent_ + i.
  uint64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  // By encoding: the last event queued for sharing subscriptions, which more of them may
  // take in the same message while it waits in `out_`.
  absl::InlinedVector<SharedEvent, 2> shared_ ABSL_GUARDED_BY(mu_);
  // The message being written; only the writer touches it.
  Events current_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> stopping_ ABSL_GUARDED_BY(mu_);
};

class CommandsReactor final : public grpc::ServerBidiReactor<Requests, Events> {
 public:
  CommandsReactor(grpc::CallbackServerContext* context, const CommandServices& services)
      : hub_(std::make_shared<CommandHub>(this, context, services)), registry_(services.registry) {
    // Refused during shutdown: the stream ends at once, unread.
    if (!registry_.Register(hub_)) {
      hub_->Stop(absl::UnavailableError("device-service is stopping"));
      return;
    }
    StartRead(&requests_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return hub_->OnReadsDone();
    hub_->Accept(requests_);
    requests_.Clear();
    StartRead(&requests_);
  }
  void OnWriteDone(bool ok) override { hub_->OnWriteDone(ok); }
  void OnCancel() override { hub_->OnCancel(); }
  void OnDone() override {
    hub_->OnDone();
    registry_.Unregister(hub_.get());
    delete this;
  }

 private:
  std::shared_ptr<CommandHub> hub_;
  StreamRegistry& registry_;
  Requests requests_;
};

}  // namespace

grpc::ServerBidiReactor<devicepb::CommandRequests, devicepb::CommandEvents>* StartCommands(
    grpc::CallbackServerContext* context, const CommandServices& services) {
  return new CommandsReactor(context, services);
}

absl::Status CheckSubscribeAllowed(const northbound::auth::v1::Permissions& permissions) {
  if (HasOperation(permissions, northbound::auth::v1::SUBSCRIBE_EVENTS)) return absl::OkStatus();
  return ErrorStatus(ErrorCode::PERMISSION_DENIED, "this client may not SUBSCRIBE_EVENTS");
}

absl::StatusOr<std::shared_ptr<Subscription>> NewSubscription(const Caller& caller,
                                                              const std::string& topic,
                                                              size_t capacity,
                                                              std::function<void()> wake,
                                                              Authorizer& authorizer) {
  if (absl::Status allowed = CheckSubscribeAllowed(*caller.permissions); !allowed.ok()) {
    authorizer.CountDenied();
    return allowed;
  }
  absl::StatusOr<TopicPattern> pattern = TopicPattern::Parse(topic);
  if (!pattern.ok()) return pattern.status();
  auto subscription =
      std::make_shared<Subscription>(*std::move(pattern), capacity, std::move(wake));
  if (!caller.client_id.empty()) subscription->SetPermissions(caller.permissions);
  return subscription;
}

}  // namespace nb::device
