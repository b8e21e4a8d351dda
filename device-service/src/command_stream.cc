#include "device-service/src/command_stream.h"

#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "common/status.h"
#include "device-service/src/send_reactor.h"

namespace nb::device {

namespace {

using Requests = devicepb::CommandRequests;
using Events = devicepb::CommandEvents;

// At most this much goes into one message: a fan-out's replies pack into a few large
// writes, far below gRPC's 4 MiB receive limit.
constexpr size_t kMaxPackedBytes = 1 << 20;

class CommandHub;

// One command of a Commands stream: what the authorizer re-checks, and what a cancel or
// the stream's end stops. Its request is written once, before it is shared.
class StreamCommand final : public GuardedStream {
 public:
  StreamCommand(std::weak_ptr<CommandHub> hub, uint64_t id, devicepb::SendRequest request)
      : hub_(std::move(hub)), id_(id), request_(std::move(request)) {}

  uint64_t id() const { return id_; }
  const devicepb::SendRequest& request() const { return request_; }

  // The caller is known and allowed: tracks it and starts the command.
  void Start(Caller caller, CommandDispatcher& dispatcher, Authorizer& authorizer,
             const std::shared_ptr<StreamCommand>& self);
  // Stops the device waits and the re-checks; idempotent. Any thread.
  void Stop();
  void Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) override;

 private:
  const std::weak_ptr<CommandHub> hub_;
  const uint64_t id_;
  const devicepb::SendRequest request_;
  Mutex mu_;
  std::shared_ptr<SendOperation> operation_ ABSL_GUARDED_BY(mu_);
  std::optional<Caller> caller_ ABSL_GUARDED_BY(mu_);
  Authorizer* authorizer_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// The shared state of one Commands stream. Replies come from driver and timer threads,
// requests and write completions from gRPC. As in SendStream (send_reactor.cc), every
// decision is taken under `mu_` and StartWrite or Finish is called after unlocking: only
// the thread that set `finished_` calls Finish, and none writes after it.
class CommandHub final : public StoppableStream, public std::enable_shared_from_this<CommandHub> {
 public:
  CommandHub(grpc::ServerBidiReactor<Requests, Events>* reactor,
             grpc::CallbackServerContext* context, CommandDispatcher& dispatcher,
             Authorizer& authorizer)
      : reactor_(reactor), context_(context), dispatcher_(dispatcher), authorizer_(authorizer) {}

  // What the caller sent: starts or cancels each command in order.
  void Accept(Requests& requests) {
    for (devicepb::CommandRequest& request : *requests.mutable_requests()) {
      if (request.action_case() == devicepb::CommandRequest::kCancel) {
        Cancel(request.command_id());
      } else if (request.action_case() == devicepb::CommandRequest::kSend) {
        Begin(request);
      } else {
        Refuse(request.command_id(),
               ErrorStatus(ErrorCode::PARAMETER_ERROR, "a CommandRequest needs send or cancel"));
      }
    }
  }

  // From a command's operation; dropped once the command is over.
  void Emit(const StreamCommand* command, devicepb::SendReply reply) {
    Next next;
    {
      MutexLock lock(mu_);
      if (!IsLive(command)) return;
      devicepb::CommandEvent& event = out_.emplace_back();
      event.set_command_id(command->id());
      *event.mutable_reply() = std::move(reply);
      next = Decide();
    }
    Act(next);
  }

  // Ends a live command with `status` (OK: every device answered).
  void End(StreamCommand* command, const absl::Status& status) {
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

  // The caller half-closed: the stream finishes once its commands are over.
  void OnReadsDone() {
    {
      MutexLock lock(mu_);
      reads_done_ = true;
    }
    Pump();
  }

  void OnWriteDone(bool ok) {
    std::vector<std::shared_ptr<StreamCommand>> stopped;
    Next next;
    {
      MutexLock lock(mu_);
      writing_ = false;
      // The caller is gone: nothing more can reach it.
      if (!ok) stopped = Abandon();
      next = Decide();
    }
    for (const auto& command : stopped) command->Stop();
    Act(next);
  }

  // The call was cancelled (the caller went away, or a deadline passed).
  void OnCancel() {
    std::vector<std::shared_ptr<StreamCommand>> stopped;
    Next next;
    {
      MutexLock lock(mu_);
      stopped = Abandon();
      next = Decide();
    }
    for (const auto& command : stopped) command->Stop();
    Act(next);
  }

  // Shutdown: new commands are refused; the stream ends once the live ones are over.
  void Stop(const absl::Status& status) override {
    {
      MutexLock lock(mu_);
      if (!stopping_) stopping_ = status;
    }
    Pump();
  }

  // gRPC is done with the call; commands still live (none, unless the call failed) stop.
  void OnDone() {
    std::vector<std::shared_ptr<StreamCommand>> stopped;
    {
      MutexLock lock(mu_);
      finished_ = true;
      stopped = Abandon();
    }
    for (const auto& command : stopped) command->Stop();
  }

 private:
  struct Next {
    WriteStep step = WriteStep::kNothing;
    absl::Status status;
  };

  void Begin(devicepb::CommandRequest& request) {
    const uint64_t id = request.command_id();
    auto command =
        std::make_shared<StreamCommand>(weak_from_this(), id, std::move(*request.mutable_send()));
    std::optional<absl::Status> refused;
    {
      MutexLock lock(mu_);
      if (stopping_) {
        refused = ErrorStatus(ErrorCode::SERVER_NOT_AVAILABLE, "device-service is stopping");
      } else if (live_.contains(id)) {
        refused = ErrorStatus(ErrorCode::DUPLICATE_ID,
                              absl::StrCat("command ", id, " is live on this stream"));
      } else if (live_.size() >= kMaxCommandsPerStream) {
        refused = ErrorStatus(
            ErrorCode::RATE_LIMITED,
            absl::StrCat("at most ", kMaxCommandsPerStream, " commands may be live on one stream"));
      }
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
    std::shared_ptr<StreamCommand> cancelled;
    {
      MutexLock lock(mu_);
      auto it = live_.find(id);
      if (it == live_.end()) return;
      cancelled = std::move(it->second);
      live_.erase(it);
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
    devicepb::CommandEvent& event = out_.emplace_back();
    event.set_command_id(id);
    devicepb::CommandEnd& end = *event.mutable_end();
    end.set_status(static_cast<int32_t>(status.code()));
    if (HasErrorCode(status)) end.set_code(ErrorCodeOf(status));
    end.set_message(std::string(status.message()));
  }

  // Forgets every live command and anything unsent; the caller stops the commands.
  std::vector<std::shared_ptr<StreamCommand>> Abandon() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    abandoned_ = true;
    out_.clear();
    std::vector<std::shared_ptr<StreamCommand>> commands;
    commands.reserve(live_.size());
    for (auto& [id, command] : live_) commands.push_back(std::move(command));
    live_.clear();
    return commands;
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
      }
      writing_ = true;
      next.step = WriteStep::kWrite;
      return next;
    }
    if (abandoned_) {
      finished_ = true;
      next.step = WriteStep::kFinish;
      next.status = absl::CancelledError("cancelled");
    } else if ((reads_done_ || stopping_) && live_.empty()) {
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
  Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<StreamCommand>> live_ ABSL_GUARDED_BY(mu_);
  std::deque<devicepb::CommandEvent> out_ ABSL_GUARDED_BY(mu_);
  // The message being written; only the writer touches it.
  Events current_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> stopping_ ABSL_GUARDED_BY(mu_);
};

void StreamCommand::Start(Caller caller, CommandDispatcher& dispatcher, Authorizer& authorizer,
                          const std::shared_ptr<StreamCommand>& self) {
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    caller_ = caller;
    authorizer_ = &authorizer;
  }
  authorizer.Track(caller, self);
  // Replies reach the command and the stream weakly: the stream owns its commands, and a
  // reply already under way when the command stops may still arrive.
  std::weak_ptr<StreamCommand> weak = self;
  absl::StatusOr<std::shared_ptr<SendOperation>> operation = dispatcher.Start(
      request_,
      [weak](devicepb::SendReply reply) {
        if (auto command = weak.lock()) {
          if (auto hub = command->hub_.lock()) hub->Emit(command.get(), std::move(reply));
        }
      },
      [weak] {
        if (auto command = weak.lock()) {
          if (auto hub = command->hub_.lock()) hub->End(command.get(), absl::OkStatus());
        }
      });
  if (!operation.ok()) {
    if (auto hub = hub_.lock()) hub->End(this, operation.status());
    return;
  }
  bool cancel_now;
  {
    MutexLock lock(mu_);
    operation_ = *operation;
    cancel_now = stopped_;
  }
  if (cancel_now) (*operation)->Cancel();
}

void StreamCommand::Stop() {
  std::shared_ptr<SendOperation> operation;
  std::optional<Caller> caller;
  Authorizer* authorizer;
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    operation = operation_;
    caller = caller_;
    authorizer = authorizer_;
  }
  if (operation) operation->Cancel();
  if (caller) authorizer->Untrack(*caller, this);
}

void StreamCommand::Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) {
  absl::Status status =
      permissions.ok() ? CheckSendAllowed(**permissions, request_) : permissions.status();
  if (status.ok()) return;
  if (auto hub = hub_.lock()) hub->End(this, status);
}

class CommandsReactor final : public grpc::ServerBidiReactor<Requests, Events> {
 public:
  CommandsReactor(grpc::CallbackServerContext* context, CommandDispatcher& dispatcher,
                  Authorizer& authorizer, StreamRegistry& registry)
      : hub_(std::make_shared<CommandHub>(this, context, dispatcher, authorizer)),
        registry_(registry) {
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
    grpc::CallbackServerContext* context, CommandDispatcher& dispatcher, Authorizer& authorizer,
    StreamRegistry& registry) {
  return new CommandsReactor(context, dispatcher, authorizer, registry);
}

}  // namespace nb::device
