#include "device-service/src/drivers/modbus_driver.h"

#include <map>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "device-service/src/drivers/modbus_endpoint.h"
#include "device-service/src/drivers/modbus_metrics.h"
#include "device-service/src/drivers/modbus_settings.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;

class ModbusDriver : public Driver {
 public:
  ModbusDriver(const ModbusSection& section, prometheus::Registry& registry)
      : section_(section), metrics_(registry) {}
  ~ModbusDriver() override { Stop(); }

  absl::string_view name() const override { return "modbus"; }

  absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                         std::shared_ptr<const ThingModel> model) override {
    auto settings = std::static_pointer_cast<const ModbusDeviceSettings>(config.settings);
    auto unit = std::make_unique<modbus::Unit>();
    unit->index = index;
    unit->settings = settings;
    unit->model = std::move(model);
    std::unique_ptr<ModbusEndpoint>& endpoint = endpoints_[settings->endpoint()];
    if (endpoint == nullptr) {
      endpoint =
          std::make_unique<ModbusEndpoint>(settings->host, settings->port, section_, metrics_);
    }
    endpoint->Add(unit.get());
    units_[index] = {std::move(unit), endpoint.get()};
    return absl::OkStatus();
  }

  absl::Status Start(DeviceListener* listener) override {
    for (auto& [name, endpoint] : endpoints_) endpoint->Start(listener);
    started_ = true;
    return absl::OkStatus();
  }

  void Stop() override {
    if (!started_) return;
    started_ = false;
    for (auto& [name, endpoint] : endpoints_) endpoint->Stop();
  }

  void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override {
    auto it = units_.find(device);
    if (it == units_.end()) {
      std::move(on_dispatched)(ErrorStatus(ErrorCode::DEVICE_NOT_FOUND, "not a modbus device"));
      return;
    }
    it->second.endpoint->Execute(*it->second.unit, std::move(command), std::move(on_dispatched),
                                 std::move(on_answer));
  }

  void Forget(DeviceIndex device, const std::string& message_id) override {
    auto it = units_.find(device);
    if (it != units_.end()) it->second.endpoint->Forget(message_id);
  }

 private:
  struct Placed {
    std::unique_ptr<modbus::Unit> unit;
    ModbusEndpoint* endpoint = nullptr;
  };

  const ModbusSection section_;
  ModbusMetrics metrics_;
  std::map<std::string, std::unique_ptr<ModbusEndpoint>> endpoints_;
  absl::flat_hash_map<DeviceIndex, Placed> units_;  // fixed before Start
  bool started_ = false;
};

class ModbusDriverFactory : public DriverFactory {
 public:
  absl::string_view name() const override { return "modbus"; }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseSection(
      const YAML::Node& section, const NodeLocator& locate) const override {
    return ParseModbusSection(section, locate);
  }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel& model, const DriverSettings* section,
      absl::string_view where, const NodeLocator& locate) const override {
    return ParseModbusDevice(settings, model, where, locate);
  }

  absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext& context,
                                                 const DriverSettings* section) const override {
    static const ModbusSection kDefaults;
    return std::make_unique<ModbusDriver>(
        section != nullptr ? static_cast<const ModbusSection&>(*section) : kDefaults,
        context.metrics);
  }
};

}  // namespace

std::unique_ptr<DriverFactory> MakeModbusDriverFactory() {
  return std::make_unique<ModbusDriverFactory>();
}

}  // namespace nb::device
