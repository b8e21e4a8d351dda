#ifndef NORTHBOUND_DEVICE_SERVICE_COMMAND_DISPATCHER_H_
#define NORTHBOUND_DEVICE_SERVICE_COMMAND_DISPATCHER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "common/mutex.h"
#include "device-service/src/device_metrics.h"
#include "device-service/src/device_registry.h"

namespace nb::device {

struct DispatcherOptions {
  size_t max_devices = 1000;
  uint32_t default_timeout_ms = 10'000;
  uint32_t min_timeout_ms = 100;
  uint32_t max_timeout_ms = 60'000;
};

class PendingCommand;
class SendOperation;

// The deadlines of the running Sends, and one timer armed for the earliest. Registering
// and forgetting a deadline are map operations under a lock; the timer is re-armed only
// when a new deadline comes before the one it waits for, and wakes a thread only when a
// deadline passes, not once per command. Any thread may call Add and Remove.
class DeadlineQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<Clock::time_point, uint64_t>;

  explicit DeadlineQueue(boost::asio::io_context& io) : timer_(io) {}

  // At `deadline` (unless removed first) the operation's silent devices get TIME_OUT.
  Key Add(Clock::time_point deadline, std::shared_ptr<SendOperation> operation);
  // Harmless when the deadline has already passed.
  void Remove(const Key& key);

 private:
  void Arm(Clock::time_point at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnTimer();

  Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<Key, std::shared_ptr<SendOperation>> deadlines_ ABSL_GUARDED_BY(mu_);
  // Touched only under mu_; its handler takes mu_ itself.
  boost::asio::steady_timer timer_ ABSL_GUARDED_BY(mu_);
  // When the timer fires, if it waits.
  std::optional<Clock::time_point> armed_for_ ABSL_GUARDED_BY(mu_);
};

// One running Send: a command fanned out to its devices, with one deadline for all of them,
// registered in the dispatcher's DeadlineQueue until every device has its reply. Replies are
// handed to the callbacks given to CommandDispatcher::Start, from driver and timer threads,
// possibly concurrently; `on_done` runs once after the last reply unless the operation was
// cancelled first.
class SendOperation : public std::enable_shared_from_this<SendOperation> {
 public:
  using ReplyFn = std::function<void(devicepb::SendReply)>;
  using DoneFn = std::function<void()>;

  SendOperation(ReplyFn on_reply, DoneFn on_done, DeviceMetrics& metrics,
                devicepb::MessageType type, DeadlineQueue& deadlines);

  // Stops every outstanding wait at once; no reply starts after Cancel returns. Safe from
  // any thread, more than once.
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class CommandDispatcher;
  friend class DeadlineQueue;
  friend class PendingCommand;

  void Track(const std::shared_ptr<PendingCommand>& pending);
  // Devices without their reply at `deadline` get TIME_OUT then. After every Track.
  void StartTimer(std::chrono::steady_clock::time_point deadline, uint32_t timeout_ms);
  void StopTimer();
  void TimeOut();
  // Delivers the one reply of a device; false if the device already had its reply or the
  // operation was cancelled.
  bool Settle(PendingCommand& pending, devicepb::SendReply reply);
  void SettleImmediately(devicepb::SendReply reply);
  void ExpectReplies(int count) { remaining_.store(count); }

  const ReplyFn on_reply_;
  const DoneFn on_done_;
  DeviceMetrics& metrics_;
  const devicepb::MessageType type_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int> remaining_{0};
  Mutex mu_;
  std::vector<std::weak_ptr<PendingCommand>> pending_ ABSL_GUARDED_BY(mu_);
  DeadlineQueue& deadlines_;
  uint32_t timeout_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<DeadlineQueue::Key> deadline_ ABSL_GUARDED_BY(mu_);
  bool timer_stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// Checks Send requests against the thing model and runs them: fan-out to every device
// concurrently, a TIME_OUT reply for each device without an answer at the Send's deadline,
// answers published on the reply topics, async mode.
// Start may be called from any thread (gRPC reactions); it never blocks.
class CommandDispatcher {
 public:
  CommandDispatcher(DeviceRegistry& registry, boost::asio::io_context& io, DeviceMetrics& metrics,
                    DispatcherOptions options = {});

  // Rejects a request as a whole (PRODUCT_NOT_FOUND, PROPERTY_UNDEFINED, READ_ONLY,
  // PARAMETER_ERROR ...) before anything reaches a device, or starts it. Replies may arrive
  // before Start returns.
  absl::StatusOr<std::shared_ptr<SendOperation>> Start(const devicepb::SendRequest& request,
                                                       SendOperation::ReplyFn on_reply,
                                                       SendOperation::DoneFn on_done);

  std::string NextMessageId();

 private:
  struct Plan;
  absl::StatusOr<Plan> Check(const devicepb::SendRequest& request) const;
  void Dispatch(const std::shared_ptr<SendOperation>& operation, DeviceEntry& device,
                const Command& command, bool async, std::chrono::steady_clock::time_point deadline);
  void OnAnswer(DeviceEntry& device, devicepb::MessageType type, const std::string& message_id,
                const DeviceAnswer& answer);

  DeviceRegistry& registry_;
  DeviceMetrics& metrics_;
  DeadlineQueue deadlines_;
  const DispatcherOptions options_;
  const std::string message_id_prefix_;
  std::atomic<uint64_t> next_message_id_{1};
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_COMMAND_DISPATCHER_H_
