#include "device-service/src/command_dispatcher.h"

#include <chrono>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "common/status.h"

namespace nb::device {
namespace {

namespace asio = boost::asio;
using northbound::common::v1::ErrorCode;

devicepb::SendReply ErrorReply(absl::string_view device_key, absl::string_view message_id,
                               const absl::Status& status) {
  devicepb::SendReply reply;
  reply.set_device_key(std::string(device_key));
  reply.set_message_id(std::string(message_id));
  reply.set_timestamp_ms(NowMs());
  reply.set_code(ErrorCodeOf(status));
  reply.set_message(std::string(status.message()));
  return reply;
}

absl::string_view ReplySuffix(devicepb::MessageType type) {
  switch (type) {
    case devicepb::READ_PROPERTY:
      return "message/property/read/reply";
    case devicepb::WRITE_PROPERTY:
      return "message/property/write/reply";
    default:
      return "message/function/reply";
  }
}

devicepb::EventKind ReplyKind(devicepb::MessageType type) {
  switch (type) {
    case devicepb::READ_PROPERTY:
      return devicepb::READ_REPLY;
    case devicepb::WRITE_PROPERTY:
      return devicepb::WRITE_REPLY;
    default:
      return devicepb::FUNCTION_REPLY;
  }
}

}  // namespace

// One device's part of a Send. Lives as long as the driver's callbacks hold it (the
// operation keeps only weak references).
class PendingCommand {
 public:
  PendingCommand(std::shared_ptr<SendOperation> operation, DeviceEntry& device,
                 std::string message_id)
      : operation(std::move(operation)),
        device(device),
        message_id(std::move(message_id)),
        started(std::chrono::steady_clock::now()) {}

  // Nobody waits any more: the driver lets go of the command. Harmless before the command
  // reached the driver or after it answered (the driver then knows no such id).
  void ForgetInDriver() { device.driver->Forget(device.index, message_id); }

  const std::string& device_key() const { return device.config.key; }

  const std::shared_ptr<SendOperation> operation;
  DeviceEntry& device;
  const std::string message_id;
  const std::chrono::steady_clock::time_point started;
  std::atomic<bool> settled{false};
};

DeadlineQueue::Key DeadlineQueue::Add(Clock::time_point deadline,
                                      std::shared_ptr<SendOperation> operation) {
  MutexLock lock(mu_);
  Key key{deadline, next_id_++};
  deadlines_.emplace(key, std::move(operation));
  if (!armed_for_ || deadline < *armed_for_) Arm(deadline);
  return key;
}

void DeadlineQueue::Remove(const Key& key) {
  // The timer stays armed: when it fires for nothing, it re-arms for the next deadline.
  MutexLock lock(mu_);
  deadlines_.erase(key);
}

void DeadlineQueue::Arm(Clock::time_point at) {
  armed_for_ = at;
  timer_.expires_at(at);
  timer_.async_wait([this](boost::system::error_code error) {
    // Aborted: re-armed for an earlier deadline, or shutting down (the queue may be gone).
    if (!error) OnTimer();
  });
}

void DeadlineQueue::OnTimer() {
  std::vector<std::shared_ptr<SendOperation>> due;
  {
    MutexLock lock(mu_);
    armed_for_.reset();
    const Clock::time_point now = Clock::now();
    auto it = deadlines_.begin();
    while (it != deadlines_.end() && it->first.first <= now) {
      due.push_back(std::move(it->second));
      it = deadlines_.erase(it);
    }
    if (!deadlines_.empty()) Arm(deadlines_.begin()->first.first);
  }
  for (const auto& operation : due) operation->TimeOut();
}

SendOperation::SendOperation(ReplyFn on_reply, DoneFn on_done, DeviceMetrics& metrics,
                             devicepb::MessageType type, DeadlineQueue& deadlines)
    : on_reply_(std::move(on_reply)),
      on_done_(std::move(on_done)),
      metrics_(metrics),
      type_(type),
      deadlines_(deadlines) {}

void SendOperation::Track(const std::shared_ptr<PendingCommand>& pending) {
  MutexLock lock(mu_);
  pending_.push_back(pending);
}

void SendOperation::StartTimer(std::chrono::steady_clock::time_point deadline,
                               uint32_t timeout_ms) {
  MutexLock lock(mu_);
  // Every device may have answered, or the caller cancelled, while the devices were being
  // dispatched: then nothing is left to time out.
  if (timer_stopped_) return;
  timeout_ms_ = timeout_ms;
  deadline_ = deadlines_.Add(deadline, shared_from_this());
}

void SendOperation::StopTimer() {
  MutexLock lock(mu_);
  timer_stopped_ = true;
  if (deadline_) deadlines_.Remove(*deadline_);
  deadline_.reset();
}

void SendOperation::TimeOut() {
  std::vector<std::weak_ptr<PendingCommand>> pending;
  uint32_t timeout_ms = 0;
  {
    MutexLock lock(mu_);
    pending = pending_;
    timeout_ms = timeout_ms_;
    deadline_.reset();  // The queue let go of it.
  }
  const absl::Status status = ErrorStatus(
      ErrorCode::TIME_OUT, absl::StrCat("device did not answer within ", timeout_ms, " ms"));
  for (const auto& weak : pending) {
    std::shared_ptr<PendingCommand> command = weak.lock();
    if (command == nullptr || command->settled.load()) continue;
    if (Settle(*command, ErrorReply(command->device_key(), command->message_id, status))) {
      command->ForgetInDriver();
    }
  }
}

void SendOperation::Cancel() {
  if (cancelled_.exchange(true)) return;
  StopTimer();
  std::vector<std::weak_ptr<PendingCommand>> pending;
  {
    MutexLock lock(mu_);
    pending.swap(pending_);
  }
  for (const auto& weak : pending) {
    if (auto command = weak.lock()) {
      if (!command->settled.exchange(true)) command->ForgetInDriver();
    }
  }
}

bool SendOperation::Settle(PendingCommand& pending, devicepb::SendReply reply) {
  if (pending.settled.exchange(true)) return false;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pending.started).count();
  metrics_.CountCommand(type_, reply.code(), seconds);
  SettleImmediately(std::move(reply));
  return true;
}

void SendOperation::SettleImmediately(devicepb::SendReply reply) {
  if (cancelled_.load()) return;
  on_reply_(std::move(reply));
  if (remaining_.fetch_sub(1) == 1) {
    StopTimer();
    if (!cancelled_.load()) on_done_();
  }
}

struct CommandDispatcher::Plan {
  const ThingModel* model = nullptr;
  std::vector<DeviceEntry*> devices;
  // Keys named in the request that the product does not have.
  std::vector<std::string> unknown_devices;
  Command command;
  uint32_t timeout_ms = 0;
};

CommandDispatcher::CommandDispatcher(DeviceRegistry& registry, asio::io_context& io,
                                     DeviceMetrics& metrics, DispatcherOptions options)
    : registry_(registry),
      metrics_(metrics),
      deadlines_(io),
      options_(options),
      message_id_prefix_(absl::StrFormat("%08x", std::random_device{}())) {}

std::string CommandDispatcher::NextMessageId() {
  return absl::StrCat(message_id_prefix_, "-", next_message_id_.fetch_add(1));
}

absl::StatusOr<CommandDispatcher::Plan> CommandDispatcher::Check(
    const devicepb::SendRequest& request) const {
  Plan plan;
  plan.model = registry_.FindProduct(request.product_key());
  if (plan.model == nullptr) {
    return ErrorStatus(ErrorCode::PRODUCT_NOT_FOUND,
                       absl::StrCat("product ", Quoted(request.product_key()), " does not exist"));
  }
  if (request.timeout_ms() == 0) {
    plan.timeout_ms = options_.default_timeout_ms;
  } else if (request.timeout_ms() < options_.min_timeout_ms ||
             request.timeout_ms() > options_.max_timeout_ms) {
    return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                       absl::StrCat("timeout must be ", options_.min_timeout_ms, "..",
                                    options_.max_timeout_ms, " ms, got ", request.timeout_ms()));
  } else {
    plan.timeout_ms = request.timeout_ms();
  }

  Command& command = plan.command;
  command.type = request.message_type();
  absl::Status checked;
  switch (request.message_type()) {
    case devicepb::READ_PROPERTY:
      checked = plan.model->CheckRead({request.properties().begin(), request.properties().end()},
                                      command.properties);
      break;
    case devicepb::WRITE_PROPERTY:
      checked = plan.model->CheckWrite(request.values());
      command.values = request.values();
      break;
    case devicepb::INVOKE_FUNCTION:
      checked = plan.model->CheckInvoke(request.function_id(), request.inputs());
      command.function_id = request.function_id();
      command.inputs = request.inputs();
      break;
    default:
      return ErrorStatus(ErrorCode::UNSUPPORTED_MESSAGE,
                         "message_type must be READ_PROPERTY, WRITE_PROPERTY or INVOKE_FUNCTION");
  }
  if (!checked.ok()) return checked;

  if (request.all_devices()) {
    plan.devices = registry_.DevicesOf(request.product_key());
    if (plan.devices.size() > options_.max_devices) {
      return ErrorStatus(
          ErrorCode::PARAMETER_ERROR,
          absl::StrCat("product has ", plan.devices.size(), " devices, more than the limit of ",
                       options_.max_devices, " per command"));
    }
    return plan;
  }
  if (request.device_keys().empty()) {
    return ErrorStatus(ErrorCode::PARAMETER_ERROR, "no device named");
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& key : request.device_keys()) {
    if (key.empty()) return ErrorStatus(ErrorCode::PARAMETER_ERROR, "empty device key");
    if (!seen.insert(key).second) continue;
    if (seen.size() > options_.max_devices) {
      return ErrorStatus(
          ErrorCode::PARAMETER_ERROR,
          absl::StrCat("more than ", options_.max_devices, " devices in one command"));
    }
    if (DeviceEntry* device = registry_.FindDevice(request.product_key(), key)) {
      plan.devices.push_back(device);
    } else {
      plan.unknown_devices.push_back(key);
    }
  }
  return plan;
}

absl::StatusOr<std::shared_ptr<SendOperation>> CommandDispatcher::Start(
    const devicepb::SendRequest& request, SendOperation::ReplyFn on_reply,
    SendOperation::DoneFn on_done) {
  absl::StatusOr<Plan> plan = Check(request);
  if (!plan.ok()) return plan.status();
  auto operation = std::make_shared<SendOperation>(std::move(on_reply), std::move(on_done),
                                                   metrics_, request.message_type(), deadlines_);
  const int total = static_cast<int>(plan->devices.size() + plan->unknown_devices.size());
  operation->ExpectReplies(total);
  if (total == 0) {
    // A product without devices and "*": nothing to do, the stream just ends.
    operation->on_done_();
    return operation;
  }
  for (const std::string& key : plan->unknown_devices) {
    metrics_.CountCommand(request.message_type(), ErrorCode::DEVICE_NOT_FOUND, 0);
    operation->SettleImmediately(
        ErrorReply(key, "",
                   ErrorStatus(ErrorCode::DEVICE_NOT_FOUND,
                               absl::StrCat("device ", Quoted(key), " does not exist in product '",
                                            request.product_key(), "'"))));
  }
  // One deadline for every device of the Send, registered once they are all dispatched.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(plan->timeout_ms);
  for (DeviceEntry* device : plan->devices) {
    Dispatch(operation, *device, plan->command, request.async(), deadline);
  }
  if (!plan->devices.empty()) operation->StartTimer(deadline, plan->timeout_ms);
  return operation;
}

void CommandDispatcher::Dispatch(const std::shared_ptr<SendOperation>& operation,
                                 DeviceEntry& device, const Command& command, bool async,
                                 std::chrono::steady_clock::time_point deadline) {
  if (operation->cancelled()) return;
  Command own = command;
  own.message_id = NextMessageId();
  own.deadline = deadline;
  auto pending = std::make_shared<PendingCommand>(operation, device, own.message_id);
  operation->Track(pending);

  auto on_dispatched = [pending, async](absl::Status status) {
    if (!status.ok()) {
      pending->operation->Settle(*pending,
                                 ErrorReply(pending->device_key(), pending->message_id, status));
      return;
    }
    if (!async) return;
    devicepb::SendReply reply;
    reply.set_device_key(pending->device_key());
    reply.set_message_id(pending->message_id);
    reply.set_timestamp_ms(NowMs());
    reply.set_async(true);
    reply.mutable_payload();
    pending->operation->Settle(*pending, std::move(reply));
  };
  auto on_answer = [this, pending, &device, type = own.type](DeviceAnswer answer) {
    OnAnswer(device, type, pending->message_id, answer);
    if (answer.status.ok()) {
      devicepb::SendReply reply;
      reply.set_device_key(pending->device_key());
      reply.set_message_id(pending->message_id);
      reply.set_timestamp_ms(NowMs());
      *reply.mutable_payload() = std::move(answer.payload);
      pending->operation->Settle(*pending, std::move(reply));
    } else {
      pending->operation->Settle(
          *pending, ErrorReply(pending->device_key(), pending->message_id, answer.status));
    }
  };
  Driver* driver = device.driver;
  driver->Execute(device.index, std::move(own), std::move(on_dispatched), std::move(on_answer));
}

void CommandDispatcher::OnAnswer(DeviceEntry& device, devicepb::MessageType type,
                                 const std::string& message_id, const DeviceAnswer& answer) {
  if (answer.status.ok() && type != devicepb::INVOKE_FUNCTION) {
    registry_.RecordValues(device.index, answer.payload);
  } else {
    registry_.Touch(device.index);
  }
  // Every answer, on time or late, sync or async, goes to the reply topic.
  registry_.Publish(device.index, ReplyKind(type), ReplySuffix(type), answer.payload, message_id,
                    answer.status);
}

}  // namespace nb::device
