#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_SETTINGS_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_SETTINGS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "device-service/src/fleet.h"
#include "device-service/src/thing_model.h"

// The `mqtt` driver's settings (mqtt_driver.h shows them in a fleet file), parsed at fleet
// load; every error names the line.
namespace nb::device {

struct BrokerSettings {
  std::string name;
  std::string host;
  int port = 1883;
  bool tls = false;
  std::string client_id = "northbound-device-service";
  std::string username;
  std::string password_file;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  int keepalive_s = 30;
  int reconnect_min_ms = 500;
  int reconnect_max_ms = 30'000;
};

// drivers.mqtt: the brokers.
struct MqttSection : DriverSettings {
  std::vector<BrokerSettings> brokers;
};

// One device's settings.
struct MqttDeviceSettings : DriverSettings {
  std::string broker;
  int report_interval_ms = 0;
  int offline_after_ms = 0;
};

// `section` is drivers.mqtt, a null node when the fleet has none (then devices fail).
absl::StatusOr<std::shared_ptr<const MqttSection>> ParseMqttSection(const YAML::Node& section,
                                                                    const NodeLocator& locate);

absl::StatusOr<std::shared_ptr<const MqttDeviceSettings>> ParseMqttDevice(
    const YAML::Node& settings, const ThingModel& model, const MqttSection& section,
    absl::string_view where, const NodeLocator& locate);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_SETTINGS_H_
