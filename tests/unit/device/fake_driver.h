#ifndef NORTHBOUND_TESTS_UNIT_DEVICE_FAKE_DRIVER_H_
#define NORTHBOUND_TESTS_UNIT_DEVICE_FAKE_DRIVER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "device-service/src/driver.h"
#include "device-service/src/driver_registry.h"

namespace nb::device::testing {

// A driver the test steers: commands wait until the test answers them, fails them or
// drops the connection. No timers, no threads of its own; callbacks run on the test's
// thread. Devices are online unless the fleet says `settings: {online: false}`.
class FakeDriver : public Driver {
 public:
  struct Received {
    DeviceIndex device = 0;
    Command command;
  };

  absl::string_view name() const override { return "fake"; }
  absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                         std::shared_ptr<const ThingModel> model) override;
  absl::Status Start(DeviceListener* listener) override;
  void Stop() override;
  void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override;
  void Forget(DeviceIndex device, const std::string& message_id) override;

  // The next command a device received, waiting up to `timeout`.
  std::optional<Received> NextCommand(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Answers `message_id` (false if nothing waits for it).
  bool Answer(const std::string& message_id, DeviceAnswer answer);
  // The connection of every device drops: commands waiting get NO_REPLY.
  void DropConnection();
  void SetOnline(DeviceIndex device, bool online);

  // Commands the driver still holds, and the ones it was told to forget.
  size_t holding() const;
  std::set<std::string> forgotten() const;
  bool stopped() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable received_cv_;
  DeviceListener* listener_ = nullptr;
  std::map<DeviceIndex, bool> online_;
  std::deque<Received> received_;
  std::map<std::string, AnswerCallback> waiting_;
  std::set<std::string> forgotten_;
  bool stopped_ = false;
};

// Registers `driver: fake`; the driver made for a runtime is reachable through
// DeviceRuntime::FindDriver("fake").
void AddFakeDriver(DriverRegistry& registry);

}  // namespace nb::device::testing

#endif  // NORTHBOUND_TESTS_UNIT_DEVICE_FAKE_DRIVER_H_
