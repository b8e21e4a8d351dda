#include "device-service/src/drivers/mqtt_driver.h"

#include <fstream>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "device-service/src/drivers/mqtt_broker.h"
#include "device-service/src/drivers/mqtt_metrics.h"
#include "device-service/src/drivers/mqtt_settings.h"

namespace nb::device {
namespace {

// Routes each device to the connection of its broker.
class MqttDriver : public Driver {
 public:
  MqttDriver(const MqttSection& section, prometheus::Registry& registry) : metrics_(registry) {
    for (const BrokerSettings& broker : section.brokers) {
      std::string password;
      if (!broker.password_file.empty()) {
        std::ifstream in(broker.password_file);
        std::getline(in, password);
        password = std::string(absl::StripTrailingAsciiWhitespace(password));
      }
      brokers_[broker.name] = MakeBrokerConnection(broker, std::move(password), metrics_);
    }
  }
  ~MqttDriver() override { Stop(); }

  absl::string_view name() const override { return "mqtt"; }

  absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                         std::shared_ptr<const ThingModel> model) override {
    const auto& settings = static_cast<const MqttDeviceSettings&>(*config.settings);
    auto device = std::make_unique<MqttDevice>();
    device->index = index;
    device->product_key = config.product_key;
    device->device_key = config.key;
    device->model = std::move(model);
    device->offline_after = std::chrono::milliseconds(settings.offline_after_ms);
    BrokerConnection& broker = *brokers_.at(settings.broker);
    by_index_[index] = &broker;
    broker.AddDevice(std::move(device));
    return absl::OkStatus();
  }

  absl::Status Start(DeviceListener* listener) override {
    for (auto& [name, broker] : brokers_) {
      if (absl::Status s = broker->Start(listener); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  void Stop() override {
    for (auto& [name, broker] : brokers_) broker->Stop();
  }

  void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override {
    by_index_.at(device)->Execute(device, std::move(command), std::move(on_dispatched),
                                  std::move(on_answer));
  }

  void Forget(DeviceIndex device, const std::string& message_id) override {
    by_index_.at(device)->Forget(message_id);
  }

 private:
  MqttMetrics metrics_;
  std::map<std::string, std::unique_ptr<BrokerConnection>> brokers_;
  absl::flat_hash_map<DeviceIndex, BrokerConnection*> by_index_;
};

class MqttDriverFactory : public DriverFactory {
 public:
  absl::string_view name() const override { return "mqtt"; }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseSection(
      const YAML::Node& section, const NodeLocator& locate) const override {
    return ParseMqttSection(section, locate);
  }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel& model, const DriverSettings* section,
      absl::string_view where, const NodeLocator& locate) const override {
    return ParseMqttDevice(settings, model, static_cast<const MqttSection&>(*section), where,
                           locate);
  }

  absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext& context,
                                                 const DriverSettings* section) const override {
    return std::make_unique<MqttDriver>(static_cast<const MqttSection&>(*section), context.metrics);
  }
};

}  // namespace

std::unique_ptr<DriverFactory> MakeMqttDriverFactory() {
  return std::make_unique<MqttDriverFactory>();
}

}  // namespace nb::device
