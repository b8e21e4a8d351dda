#include "device-service/src/stream_items.h"

#include <utility>

#include "device-service/src/command_stream.h"
#include "device-service/src/send_reactor.h"

namespace nb::device {

void StreamItem::Stop() {
  std::optional<Caller> caller;
  Authorizer* authorizer;
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    caller = std::move(caller_);
    authorizer = authorizer_;
  }
  StopWork();
  if (caller) authorizer->Untrack(*caller, this);
}

bool StreamItem::Track(const Caller& caller, Authorizer& authorizer,
                       const std::shared_ptr<GuardedStream>& self) {
  {
    MutexLock lock(mu_);
    if (stopped_) return false;
    caller_ = caller;
    authorizer_ = &authorizer;
  }
  authorizer.Track(caller, self);
  return true;
}

void StreamCommand::Start(const Caller& caller, CommandDispatcher& dispatcher,
                          Authorizer& authorizer, const std::shared_ptr<StreamCommand>& self) {
  if (!Track(caller, authorizer, self)) return;
  // Replies reach the command and the stream weakly: the stream owns its commands, and a
  // reply already under way when the command stops may still arrive.
  std::weak_ptr<StreamCommand> weak = self;
  absl::StatusOr<std::shared_ptr<SendOperation>> operation = dispatcher.Start(
      request_,
      [weak](devicepb::SendReply reply) {
        if (auto command = weak.lock()) {
          if (auto host = command->host_.lock()) host->Emit(command.get(), std::move(reply));
        }
      },
      [weak] {
        if (auto command = weak.lock()) {
          if (auto host = command->host_.lock()) host->End(command.get(), absl::OkStatus());
        }
      });
  if (!operation.ok()) {
    if (auto host = host_.lock()) host->End(this, operation.status());
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

void StreamCommand::StopWork() {
  std::shared_ptr<SendOperation> operation;
  {
    MutexLock lock(mu_);
    operation = operation_;
  }
  // Start cancels an operation it records after this.
  if (operation) operation->Cancel();
}

void StreamCommand::Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) {
  absl::Status status =
      permissions.ok() ? CheckSendAllowed(**permissions, request_) : permissions.status();
  if (status.ok()) return;
  if (auto host = host_.lock()) host->End(this, status);
}

bool StreamWatch::Track(const Caller& caller, std::shared_ptr<Subscription> subscription,
                        Authorizer& authorizer, const std::shared_ptr<StreamWatch>& self) {
  {
    MutexLock lock(mu_);
    subscription_ = std::move(subscription);
  }
  return StreamItem::Track(caller, authorizer, self);
}

void StreamWatch::Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) {
  absl::Status status =
      permissions.ok() ? CheckSubscribeAllowed(**permissions) : permissions.status();
  if (status.ok()) {
    std::shared_ptr<Subscription> subscription;
    {
      MutexLock lock(mu_);
      subscription = subscription_;
    }
    // Narrowed or widened: the devices it may watch from now on.
    if (subscription) subscription->SetPermissions(*permissions);
    return;
  }
  if (auto host = host_.lock()) host->EndWatch(this, status);
}

}  // namespace nb::device
