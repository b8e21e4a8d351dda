#include "device-service/src/send_reactor.h"

#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "common/permissions.h"
#include "common/status.h"

namespace nb::device {

namespace authpb = northbound::auth::v1;

absl::Status CheckSendAllowed(const authpb::Permissions& permissions,
                              const devicepb::SendRequest& request) {
  authpb::Operation operation;
  switch (request.message_type()) {
    case devicepb::READ_PROPERTY:
      operation = authpb::READ_PROPERTY;
      break;
    case devicepb::WRITE_PROPERTY:
      operation = authpb::WRITE_PROPERTY;
      break;
    case devicepb::INVOKE_FUNCTION:
      operation = authpb::INVOKE_FUNCTION;
      break;
    default:
      // Not a command at all: the dispatcher refuses it as UNSUPPORTED_MESSAGE.
      return absl::OkStatus();
  }
  const std::string& product = request.product_key();
  if (request.all_devices()) {
    if (Allows(permissions, operation, product, "*")) return absl::OkStatus();
    return ErrorStatus(ErrorCode::PERMISSION_DENIED,
                       absl::StrCat("this client may not ", authpb::Operation_Name(operation),
                                    " on every device of ", Quoted(product)));
  }
  for (const std::string& device : request.device_keys()) {
    if (!Allows(permissions, operation, product, device)) {
      return ErrorStatus(ErrorCode::PERMISSION_DENIED,
                         absl::StrCat("this client may not ", authpb::Operation_Name(operation),
                                      " on device ", Quoted(device), " of ", Quoted(product)));
    }
  }
  return absl::OkStatus();
}

namespace {

// Shared state of one Send stream. Replies come from driver and timer threads; the
// reactor's reactions come from gRPC. Everything is decided under `mu`, and StartWrite or
// Finish is called after unlocking: the reactor cannot go away in between, because it
// is deleted only after Finish, and only the thread that set `finished` calls Finish.
class SendStream final : public GuardedStream {
 public:
  SendStream(grpc::ServerWriteReactor<devicepb::SendReply>* reactor,
             grpc::CallbackServerContext* context, const devicepb::SendRequest& request)
      : reactor_(reactor), context_(context), request_(request) {}

  // The caller is known and allowed: starts the command and sends the initial metadata at
  // once, so a caller can tell the command was accepted before the first device answers.
  // It is the stream's first write: writing_ starts true.
  void Start(CommandDispatcher& dispatcher, const std::shared_ptr<SendStream>& self) {
    // The operation reaches the stream weakly: the stream owns the operation, not the
    // other way round, and replies that come after the call is gone are dropped.
    std::weak_ptr<SendStream> weak = self;
    absl::StatusOr<std::shared_ptr<SendOperation>> operation = dispatcher.Start(
        request_,
        [weak](devicepb::SendReply reply) {
          if (auto stream = weak.lock()) stream->OnReply(std::move(reply));
        },
        [weak] {
          if (auto stream = weak.lock()) stream->OnAllReplied();
        });
    if (!operation.ok()) return Reject(operation.status());
    bool cancel_now;
    Next next;
    bool answered;
    {
      MutexLock lock(mu_);
      operation_ = *operation;
      cancel_now = end_.has_value();
      // Devices that answered at once (a simulator, a cache) make the metadata go with
      // their replies: one operation instead of two or three, and nothing learnt later.
      answered = !cancel_now && (!queue_.empty() || all_replied_);
      if (answered) {
        writing_ = false;
        next = Decide();
      }
    }
    if (cancel_now) (*operation)->Cancel();
    if (answered) return Act(next);
    reactor_->StartSendInitialMetadata();
  }

  // Ends a call that never started (not allowed, or refused by the dispatcher).
  void Reject(const absl::Status& status) {
    {
      MutexLock lock(mu_);
      if (finished_) return;
      finished_ = true;
    }
    reactor_->Finish(ToGrpcStatus(status, *context_));
  }

  void Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) override {
    if (!permissions.ok()) return End(permissions.status());
    absl::Status allowed;
    {
      // The request belongs to the call, which may be over (the recheck holds the stream,
      // not the call): it is read only while the lock keeps the call from finishing.
      MutexLock lock(mu_);
      if (finished_) return;
      allowed = CheckSendAllowed(**permissions, request_);
    }
    if (!allowed.ok()) End(allowed);
  }

  void OnReply(devicepb::SendReply reply) {
    Next next;
    {
      MutexLock lock(mu_);
      if (finished_ || end_) return;
      queue_.push_back(std::move(reply));
      next = Decide();
    }
    Act(next);
  }

  void OnAllReplied() {
    Next next;
    {
      MutexLock lock(mu_);
      all_replied_ = true;
      next = Decide();
    }
    Act(next);
  }

  void OnWriteDone(bool ok) {
    if (!ok) {
      {
        MutexLock lock(mu_);
        writing_ = false;
      }
      return End(absl::CancelledError("cancelled"));
    }
    Next next;
    {
      MutexLock lock(mu_);
      writing_ = false;
      next = Decide();
    }
    Act(next);
  }

  // Stops every device wait of this Send at once and ends the call with `status`.
  void End(const absl::Status& status) {
    std::shared_ptr<SendOperation> operation;
    Next next;
    {
      MutexLock lock(mu_);
      if (!end_) end_ = status;
      operation = operation_;
      next = Decide();
    }
    if (operation) operation->Cancel();
    Act(next);
  }

 private:
  // What the stream does next; decided under the lock, done outside it.
  struct Next {
    WriteStep step = WriteStep::kNothing;
    absl::Status status;
  };

  Next Decide() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Next next;
    if (writing_ || finished_) return next;
    if (end_) {
      finished_ = true;
      next.step = WriteStep::kFinish;
      next.status = *end_;
    } else if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      next.step = WriteStep::kWrite;
      if (queue_.empty() && all_replied_) {
        // The last reply carries the status with it.
        finished_ = true;
        next.step = WriteStep::kWriteAndFinish;
      }
    } else if (all_replied_) {
      finished_ = true;
      next.step = WriteStep::kFinish;
    }
    return next;
  }

  void Act(const Next& next) {
    if (next.step == WriteStep::kWrite) reactor_->StartWrite(&current_);
    if (next.step == WriteStep::kWriteAndFinish) {
      reactor_->StartWriteAndFinish(&current_, grpc::WriteOptions(), grpc::Status::OK);
    }
    if (next.step == WriteStep::kFinish) reactor_->Finish(ToGrpcStatus(next.status, *context_));
  }

  grpc::ServerWriteReactor<devicepb::SendReply>* const reactor_;
  grpc::CallbackServerContext* const context_;
  const devicepb::SendRequest& request_;
  Mutex mu_;
  std::deque<devicepb::SendReply> queue_ ABSL_GUARDED_BY(mu_);
  devicepb::SendReply current_;
  std::shared_ptr<SendOperation> operation_ ABSL_GUARDED_BY(mu_);
  // The initial metadata, sent once the command is dispatched, is the first write (unless
  // the replies are there by then: Start).
  bool writing_ ABSL_GUARDED_BY(mu_) = true;
  bool all_replied_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Why the call ends early: cancelled, or the caller lost its right to it.
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);
};

class SendReactor final : public grpc::ServerWriteReactor<devicepb::SendReply> {
 public:
  SendReactor(grpc::CallbackServerContext* context, const devicepb::SendRequest& request,
              Authorizer& authorizer)
      : request_(request),
        stream_(std::make_shared<SendStream>(this, context, request)),
        authorizer_(authorizer) {}

  // The reactor lives until OnDone, which comes only after the stream finished, so the
  // authorization's answer always finds it.
  void Authorize(grpc::CallbackServerContext* context, CommandDispatcher& dispatcher) {
    authorizer_.Authorize(*context, [this, &dispatcher](absl::StatusOr<Caller> caller) {
      if (!caller.ok()) return stream_->Reject(caller.status());
      if (absl::Status allowed = CheckSendAllowed(*caller->permissions, request_); !allowed.ok()) {
        authorizer_.CountDenied();
        return stream_->Reject(allowed);
      }
      caller_ = *std::move(caller);
      authorizer_.Track(caller_, stream_);
      stream_->Start(dispatcher, stream_);
    });
  }

  void OnSendInitialMetadataDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->End(absl::CancelledError("cancelled")); }
  void OnDone() override {
    authorizer_.Untrack(caller_, stream_.get());
    delete this;
  }

 private:
  const devicepb::SendRequest& request_;
  std::shared_ptr<SendStream> stream_;
  Authorizer& authorizer_;
  // Written once by the authorization's answer, before the stream can finish; read in
  // OnDone, which gRPC runs after Finish.
  Caller caller_;
};

}  // namespace

grpc::ServerWriteReactor<devicepb::SendReply>* StartSend(grpc::CallbackServerContext* context,
                                                         const devicepb::SendRequest& request,
                                                         CommandDispatcher& dispatcher,
                                                         Authorizer& authorizer) {
  auto* reactor = new SendReactor(context, request, authorizer);
  reactor->Authorize(context, dispatcher);
  return reactor;
}

}  // namespace nb::device
