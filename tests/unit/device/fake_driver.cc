#include "tests/unit/device/fake_driver.h"

#include "common/status.h"

namespace nb::device::testing {
namespace {

struct FakeSettings : DriverSettings {
  bool online = true;
};

class FakeDriverFactory : public DriverFactory {
 public:
  absl::string_view name() const override { return "fake"; }
  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel&, const DriverSettings*, absl::string_view where,
      const NodeLocator&) const override {
    auto parsed = std::make_shared<FakeSettings>();
    for (const auto& item : settings) {
      if (item.first.as<std::string>() != "online") {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": unknown setting '", item.first.as<std::string>(), "'"));
      }
      parsed->online = item.second.as<bool>();
    }
    return parsed;
  }
  absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext&,
                                                 const DriverSettings*) const override {
    return std::make_unique<FakeDriver>();
  }
};

}  // namespace

void AddFakeDriver(DriverRegistry& registry) {
  registry.Add(std::make_unique<FakeDriverFactory>());
}

absl::Status FakeDriver::AddDevice(DeviceIndex index, const DeviceConfig& config,
                                   std::shared_ptr<const ThingModel>) {
  std::lock_guard<std::mutex> lock(mu_);
  online_[index] = static_cast<const FakeSettings&>(*config.settings).online;
  return absl::OkStatus();
}

absl::Status FakeDriver::Start(DeviceListener* listener) {
  std::map<DeviceIndex, bool> online;
  {
    std::lock_guard<std::mutex> lock(mu_);
    listener_ = listener;
    online = online_;
  }
  for (const auto& [index, up] : online) {
    if (up) listener->OnConnectionChanged(index, true);
  }
  return absl::OkStatus();
}

void FakeDriver::Stop() {
  std::map<std::string, AnswerCallback> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    waiting.swap(waiting_);
  }
  for (auto& [id, on_answer] : waiting) {
    std::move(on_answer)({ErrorStatus(ErrorCode::NO_REPLY, "driver stopped"), {}});
  }
}

void FakeDriver::Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
                         AnswerCallback on_answer) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_ || !online_[device]) {
      lock.unlock();
      std::move(on_dispatched)(ErrorStatus(ErrorCode::CLIENT_OFFLINE, "device is offline"));
      return;
    }
    waiting_[command.message_id] = std::move(on_answer);
    received_.push_back({device, std::move(command)});
  }
  received_cv_.notify_all();
  std::move(on_dispatched)(absl::OkStatus());
}

void FakeDriver::Forget(DeviceIndex, const std::string& message_id) {
  std::lock_guard<std::mutex> lock(mu_);
  waiting_.erase(message_id);
  forgotten_.insert(message_id);
}

std::optional<FakeDriver::Received> FakeDriver::NextCommand(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!received_cv_.wait_for(lock, timeout, [this] { return !received_.empty(); })) {
    return std::nullopt;
  }
  Received next = std::move(received_.front());
  received_.pop_front();
  return next;
}

bool FakeDriver::Answer(const std::string& message_id, DeviceAnswer answer) {
  AnswerCallback on_answer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiting_.find(message_id);
    if (it == waiting_.end()) return false;
    on_answer = std::move(it->second);
    waiting_.erase(it);
  }
  std::move(on_answer)(std::move(answer));
  return true;
}

void FakeDriver::DropConnection() {
  std::map<std::string, AnswerCallback> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(waiting_);
  }
  for (auto& [id, on_answer] : waiting) {
    std::move(on_answer)({ErrorStatus(ErrorCode::NO_REPLY, "connection dropped"), {}});
  }
}

void FakeDriver::SetOnline(DeviceIndex device, bool online) {
  DeviceListener* listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    online_[device] = online;
    listener = listener_;
  }
  if (listener != nullptr) listener->OnConnectionChanged(device, online);
}

size_t FakeDriver::holding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

std::set<std::string> FakeDriver::forgotten() const {
  std::lock_guard<std::mutex> lock(mu_);
  return forgotten_;
}

bool FakeDriver::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

}  // namespace nb::device::testing
