#ifndef NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_
#define NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

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
// Threads: gRPC runs the reactions; they only post to the strand. All state lives on the
// strand. One hold keeps the reactor alive until the strand lets go of it, so the strand
// may start reads and cancel at any time before that (gRPC's rule for operations started
// outside reactions). The reactor deletes itself in OnDone, after posting the final status
// to the sink; posted lambdas reach the sink through a weak_ptr, so a sink that is gone is
// never touched.
template <typename Request, typename Response>
class StreamingCall final : public grpc::ClientReadReactor<Response> {
 public:
  using StartFn =
      std::function<void(grpc::ClientContext*, const Request*, grpc::ClientReadReactor<Response>*)>;

  // Starts the call; the first read is requested at once. Call on the strand. `live`
  // (which outlives the call) counts it until the reactor is gone.
  static std::shared_ptr<StreamHandle> Start(Strand strand,
                                             std::weak_ptr<StreamSink<Response>> sink,
                                             uint64_t call_id, Request request, LiveCalls& live,
                                             StartFn start) {
    live.Add();
    auto* call =
        new StreamingCall(std::move(strand), std::move(sink), call_id, std::move(request), live);
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
    std::shared_ptr<Response> message;
    if (ok) message = std::make_shared<Response>(std::move(buffer_));
    boost::asio::post(strand_, [this, ok, message] { HandleRead(ok, message); });
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
                Request request, LiveCalls& live)
      : strand_(std::move(strand)),
        sink_(std::move(sink)),
        call_id_(call_id),
        live_(live),
        request_(std::move(request)) {}

  void HandleRead(bool ok, const std::shared_ptr<Response>& message) {
    reading_ = false;
    // The end of the stream, or a message that raced a cancel: either way no more reads.
    if (!ok || cancelled_) return Release();
    if (auto sink = sink_.lock()) {
      sink->OnStreamMessage(call_id_, std::move(*message));
    } else {
      DoCancel();
    }
  }

  void DoResume() {
    if (released_ || cancelled_ || reading_) return;
    reading_ = true;
    this->StartRead(&buffer_);
  }

  void DoCancel() {
    if (released_ || cancelled_) return;
    cancelled_ = true;
    context_.TryCancel();
    // No read outstanding: nothing else will come back to the strand, so let go now.
    if (!reading_) Release();
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
  grpc::ClientContext context_;
  Request request_;
  Response buffer_;
  std::weak_ptr<Handle> handle_;
  // Strand-only state.
  bool reading_ = false;
  bool cancelled_ = false;
  bool released_ = false;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_
