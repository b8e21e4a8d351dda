#ifndef NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_
#define NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/strand.hpp"
#include "common/status.h"
#include "grpcpp/grpcpp.h"

namespace nb::frontend {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// Receives what a streaming call produces. Runs on the owner's strand only.
template <typename Response>
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // One message. The call reads the next only after Resume(): the sink decides, which is
  // how backpressure reaches the gRPC stream.
  virtual void OnStreamMessage(uint64_t call_id, Response message) = 0;
  // The call ended; `status` carries the protocol error code from the trailers.
  virtual void OnStreamDone(uint64_t call_id, absl::Status status) = 0;
};

// Counts the calls that gRPC still owns. A call counts from Start until its reactor is
// deleted (after OnDone), so an owner that waits for zero knows that no reaction will run
// and no ClientContext is left before it tears down channels and the io_context.
// Thread-safe.
class LiveCalls {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_;
  }
  void Remove() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--live_ == 0) idle_.notify_all();
  }
  // True when no call is live before `timeout` runs out.
  bool WaitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_.wait_for(lock, timeout, [this] { return live_ == 0; });
  }
  int live() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  int live_ = 0;
};

// Controls one server-streaming call from the owner's strand. Every method must be
// called on that strand; after OnStreamDone the handle does nothing.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  // Reads the next message (after OnStreamMessage).
  virtual void Resume() = 0;
  // Cancels the call; OnStreamDone follows with CANCELLED.
  virtual void Cancel() = 0;
};

// A gRPC callback-API client reactor for one server-streaming call, tied to an Asio strand.
//
// Threads: gRPC runs the reactions. With read-ahead they keep the next read going while
// the strand delivers (at most `read_ahead` messages wait undelivered, so memory stays
// bounded), and they wake the strand with one post for whatever arrived meanwhile, the end
// of the stream included. The inbox between the two is guarded by `mu_`; delivery state lives on
// the strand. One hold keeps the reactor alive until the strand lets go of it, so the strand may
// start reads and cancel at any time before that (gRPC's rule for operations started outside
// reactions); the strand lets go only when no read is outstanding and no drain is posted, so
// nothing posted ever finds the reactor gone. The reactor deletes itself in OnDone, after posting
// the final status to the sink; that lambda reaches the sink through a weak_ptr, so a sink that is
// gone is never touched.
template <typename Request, typename Response>
class StreamingCall final : public grpc::ClientReadReactor<Response> {
 public:
  using StartFn =
      std::function<void(grpc::ClientContext*, const Request*, grpc::ClientReadReactor<Response>*)>;

  // Starts the call; the first read is requested at once. Call on the strand. `live`
  // (which outlives the call) counts it until the reactor is gone. `read_ahead` is how many
  // messages may wait undelivered (at least 1): 2 lets the next message (or the end of the
  // stream) arrive while the strand delivers one, which shortens a command's round trip;
  // 1 reads only when the sink asks, which lets device-service batch a busy event stream
  // (a reader that keeps up costs it and the frontend a flush per event).
  static std::shared_ptr<StreamHandle> Start(Strand strand,
                                             std::weak_ptr<StreamSink<Response>> sink,
                                             uint64_t call_id, Request request, LiveCalls& live,
                                             size_t read_ahead, StartFn start) {
    live.Add();
    auto* call = new StreamingCall(std::move(strand), std::move(sink), call_id, std::move(request),
                                   live, std::max<size_t>(read_ahead, 1));
    auto handle = std::make_shared<Handle>(call);
    call->handle_ = handle;
    start(&call->context_, &call->request_, call);
    call->AddHold();
    call->reading_ = true;
    call->StartRead(&call->buffer_);
    call->StartCall();
    return handle;
  }

  void OnReadDone(bool ok) override {
    bool read_next = false;
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reading_ = false;
      if (ok && !stopped_) {
        inbox_.push_back(std::move(buffer_));
        buffer_.Clear();
        // Read ahead while the strand delivers: the next message is on its way sooner.
        if (inbox_.size() < read_ahead_) read_next = reading_ = true;
      } else {
        ended_ = true;
      }
      post = !drain_posted_;
      drain_posted_ = true;
    }
    if (read_next) this->StartRead(&buffer_);
    if (post) boost::asio::post(strand_, [this] { Drain(); });
  }

  void OnDone(const grpc::Status& status) override {
    absl::Status result = ToAbslStatus(status, context_);
    boost::asio::post(strand_, [sink = sink_, id = call_id_, result] {
      if (auto alive = sink.lock()) alive->OnStreamDone(id, result);
    });
    LiveCalls& live = live_;
    delete this;
    live.Remove();
  }

 private:
  // What the owner holds. Forgets the call once the strand released it.
  class Handle final : public StreamHandle {
   public:
    explicit Handle(StreamingCall* call) : call_(call) {}
    void Resume() override {
      if (call_ != nullptr) call_->DoResume();
    }
    void Cancel() override {
      if (call_ != nullptr) call_->DoCancel();
    }
    void Forget() { call_ = nullptr; }

   private:
    StreamingCall* call_;
  };

  StreamingCall(Strand strand, std::weak_ptr<StreamSink<Response>> sink, uint64_t call_id,
                Request request, LiveCalls& live, size_t read_ahead)
      : strand_(std::move(strand)),
        sink_(std::move(sink)),
        call_id_(call_id),
        live_(live),
        read_ahead_(read_ahead),
        request_(std::move(request)) {}

  // On the strand: what the reactions left in the inbox.
  void Drain() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      drain_posted_ = false;
    }
    Deliver();
  }

  // Hands the sink one message per credit (it grants the next with Resume), then lets go
  // of the call once it ended and nothing is left to deliver.
  void Deliver() {
    while (!released_) {
      std::optional<Response> message;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (inbox_.empty()) {
          // Ended or cancelled (a cancel empties the inbox): let go once no reaction can
          // post again.
          if ((ended_ || stopped_) && !reading_ && !drain_posted_) break;
          return;
        }
        if (!credit_) return;
        credit_ = false;
        message.emplace(std::move(inbox_.front()));
        inbox_.pop_front();
      }
      auto sink = sink_.lock();
      if (!sink) return DoCancel();
      // The sink may call Resume (or Cancel) from inside; both come back here safely.
      delivering_ = true;
      sink->OnStreamMessage(call_id_, std::move(*message));
      delivering_ = false;
    }
    Release();
  }

  void DoResume() {
    if (released_) return;
    bool read_next = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      credit_ = true;
      if (!reading_ && !ended_ && inbox_.size() < read_ahead_) read_next = reading_ = true;
    }
    if (read_next) this->StartRead(&buffer_);
    // From inside OnStreamMessage the loop in Deliver goes on by itself.
    if (!delivering_) Deliver();
  }

  void DoCancel() {
    if (released_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      inbox_.clear();
    }
    context_.TryCancel();
    // With no read outstanding and no drain posted, nothing else comes back to the strand.
    if (!delivering_) Deliver();
  }

  // After this the reactor may be deleted at any moment; nothing on the strand touches it.
  void Release() {
    if (released_) return;
    released_ = true;
    if (auto handle = handle_.lock()) handle->Forget();
    this->RemoveHold();
  }

  Strand strand_;
  const std::weak_ptr<StreamSink<Response>> sink_;
  const uint64_t call_id_;
  LiveCalls& live_;
  const size_t read_ahead_;
  grpc::ClientContext context_;
  Request request_;
  // The read outstanding writes here; only the reaction that completes it reads it.
  Response buffer_;
  std::weak_ptr<Handle> handle_;

  // Shared by the reactions and the strand.
  std::mutex mu_;
  std::deque<Response> inbox_;
  bool reading_ = false;
  bool ended_ = false;
  bool stopped_ = false;
  bool drain_posted_ = false;

  // Strand-only state.
  // The sink wants the next message (it starts out wanting the first).
  bool credit_ = true;
  bool delivering_ = false;
  bool released_ = false;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_
