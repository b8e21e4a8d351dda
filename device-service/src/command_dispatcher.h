#ifndef NORTHBOUND_DEVICE_SERVICE_COMMAND_DISPATCHER_H_
#define NORTHBOUND_DEVICE_SERVICE_COMMAND_DISPATCHER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
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

// One running Send: a command fanned out to its devices. Replies are handed to the
// callbacks given to CommandDispatcher::Start, from driver and timer threads, possibly
// concurrently; `on_done` runs once after the last reply unless the operation was
// cancelled first.
class SendOperation : public std::enable_shared_from_this<SendOperation> {
 public:
  using ReplyFn = std::function<void(devicepb::SendReply)>;
  using DoneFn = std::function<void()>;

  SendOperation(ReplyFn on_reply, DoneFn on_done, DeviceMetrics& metrics,
                devicepb::MessageType type);

  // Stops every outstanding wait at once; no reply starts after Cancel returns. Safe from
  // any thread, more than once.
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class CommandDispatcher;
  friend class PendingCommand;

  void Track(const std::shared_ptr<PendingCommand>& pending);
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
};

// Checks Send requests against the thing model and runs them: fan-out to every device
// concurrently, a per-device timeout, answers published on the reply topics, async mode.
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
                const Command& command, bool async, uint32_t timeout_ms);
  void OnAnswer(DeviceEntry& device, const Command& command, const DeviceAnswer& answer);

  DeviceRegistry& registry_;
  boost::asio::io_context& io_;
  DeviceMetrics& metrics_;
  const DispatcherOptions options_;
  const std::string message_id_prefix_;
  std::atomic<uint64_t> next_message_id_{1};
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_COMMAND_DISPATCHER_H_
