#include "device-service/src/send_reactor.h"

#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "common/status.h"

namespace nb::device {
namespace {

// Shared state of one Send stream. Replies come from driver and timer threads; the
// reactor's reactions come from gRPC. Everything is decided under `mu`, and StartWrite or
// Finish is called after unlocking: the reactor cannot go away in between, because it
// is deleted only after Finish, and only the thread that set `finished` calls Finish.
class SendStream {
 public:
  explicit SendStream(grpc::ServerWriteReactor<devicepb::SendReply>* reactor) : reactor_(reactor) {}

  // Sends the initial metadata at once, so a caller can tell the command was accepted
  // before the first device answers. It is the stream's first write: writing_ starts true.
  void Begin() { reactor_->StartSendInitialMetadata(); }

  void SetOperation(std::shared_ptr<SendOperation> operation) {
    bool cancel_now;
    {
      MutexLock lock(mu_);
      operation_ = operation;
      cancel_now = cancelled_;
    }
    if (cancel_now) operation->Cancel();
  }

  void OnReply(devicepb::SendReply reply) {
    Next next;
    {
      MutexLock lock(mu_);
      if (finished_ || cancelled_) return;
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
    std::shared_ptr<SendOperation> operation;
    Next next;
    {
      MutexLock lock(mu_);
      writing_ = false;
      if (!ok) {
        cancelled_ = true;
        operation = operation_;
      }
      next = Decide();
    }
    Act(next);
    if (operation) operation->Cancel();
  }

  void OnCancel() {
    std::shared_ptr<SendOperation> operation;
    {
      MutexLock lock(mu_);
      cancelled_ = true;
      operation = operation_;
    }
    // Stops every device wait of this Send at once.
    if (operation) operation->Cancel();
    Next next;
    {
      MutexLock lock(mu_);
      next = Decide();
    }
    Act(next);
  }

 private:
  // What the stream does next; decided under the lock, done outside it.
  struct Next {
    WriteStep step = WriteStep::kNothing;
    grpc::Status status;
  };

  Next Decide() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Next next;
    if (writing_ || finished_) return next;
    if (cancelled_) {
      finished_ = true;
      next.step = WriteStep::kFinish;
      next.status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    } else if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      next.step = WriteStep::kWrite;
    } else if (all_replied_) {
      finished_ = true;
      next.step = WriteStep::kFinish;
    }
    return next;
  }

  void Act(const Next& next) {
    if (next.step == WriteStep::kWrite) reactor_->StartWrite(&current_);
    if (next.step == WriteStep::kFinish) reactor_->Finish(next.status);
  }

  grpc::ServerWriteReactor<devicepb::SendReply>* const reactor_;
  Mutex mu_;
  std::deque<devicepb::SendReply> queue_ ABSL_GUARDED_BY(mu_);
  devicepb::SendReply current_;
  std::shared_ptr<SendOperation> operation_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = true;
  bool all_replied_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class SendReactor final : public grpc::ServerWriteReactor<devicepb::SendReply> {
 public:
  SendReactor(grpc::CallbackServerContext* context, const devicepb::SendRequest& request,
              CommandDispatcher& dispatcher)
      : stream_(std::make_shared<SendStream>(this)) {
    // The operation reaches the stream weakly: the stream owns the operation, not the
    // other way round, and replies that come after the call is gone are dropped.
    std::weak_ptr<SendStream> weak = stream_;
    absl::StatusOr<std::shared_ptr<SendOperation>> operation = dispatcher.Start(
        request,
        [weak](devicepb::SendReply reply) {
          if (auto stream = weak.lock()) stream->OnReply(std::move(reply));
        },
        [weak] {
          if (auto stream = weak.lock()) stream->OnAllReplied();
        });
    if (!operation.ok()) {
      rejected_ = true;
      Finish(ToGrpcStatus(operation.status(), *context));
      return;
    }
    stream_->SetOperation(*operation);
  }

  void Begin() {
    if (!rejected_) stream_->Begin();
  }

  void OnSendInitialMetadataDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override {
    if (!rejected_) stream_->OnCancel();
  }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<SendStream> stream_;
  bool rejected_ = false;
};

}  // namespace

grpc::ServerWriteReactor<devicepb::SendReply>* StartSend(grpc::CallbackServerContext* context,
                                                         const devicepb::SendRequest& request,
                                                         CommandDispatcher& dispatcher) {
  auto* reactor = new SendReactor(context, request, dispatcher);
  reactor->Begin();
  return reactor;
}

}  // namespace nb::device
