#ifndef NORTHBOUND_TESTS_SUPPORT_SEND_REPLIES_H_
#define NORTHBOUND_TESTS_SUPPORT_SEND_REPLIES_H_

#include <chrono>
#include <mutex>
#include <vector>

#include "device-service/src/command_dispatcher.h"
#include "tests/support/process.h"

namespace nb::testing {

// Collects the replies of one Send started on a CommandDispatcher in the test's process
// (for tests that link device-service's library). Thread-safe: the dispatcher calls back
// from driver threads.
class SendReplies {
 public:
  device::SendOperation::ReplyFn ReplyFn() {
    return [this](northbound::device::v1::SendReply reply) {
      std::lock_guard<std::mutex> lock(mu_);
      replies_.push_back(std::move(reply));
    };
  }
  device::SendOperation::DoneFn DoneFn() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    };
  }
  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  bool WaitDone(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return WaitFor([this] { return done(); }, timeout);
  }
  std::vector<northbound::device::v1::SendReply> get() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

 private:
  std::mutex mu_;
  std::vector<northbound::device::v1::SendReply> replies_;
  bool done_ = false;
};

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_SEND_REPLIES_H_
