#ifndef NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_
#define NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_

#include <condition_variable>
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

// Controls one command or subscription (a server-streaming call, as its owner sees it)
// from the owner's strand. Every method must be called on that strand; after OnStreamDone
// the handle does nothing.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  // Reads the next message (after OnStreamMessage).
  virtual void Resume() = 0;
  // Cancels the call; OnStreamDone follows with CANCELLED.
  virtual void Cancel() = 0;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_STREAMING_CALL_H_
