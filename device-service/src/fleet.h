#ifndef NORTHBOUND_DEVICE_SERVICE_FLEET_H_
#define NORTHBOUND_DEVICE_SERVICE_FLEET_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "device-service/src/thing_model.h"
#include "yaml-cpp/yaml.h"

namespace nb::device {

class DriverRegistry;

// Settings of a driver, parsed by its factory at fleet load (driver_registry.h); each
// driver defines its own struct deriving from this one.
struct DriverSettings {
  virtual ~DriverSettings() = default;
};

// Names a node's place for error messages: "fleet.yaml:42".
using NodeLocator = std::function<std::string(const YAML::Node&)>;

// One device entry of the fleet file.
struct DeviceConfig {
  std::string key;
  std::string product_key;
  std::string name;
  std::string driver;
  // What the driver's factory made of the entry's `settings`; its own type.
  std::shared_ptr<const DriverSettings> settings;
  // Where the entry starts, for error messages: "fleet.yaml:42".
  std::string location;
};

// The products (with thing models) and devices of a fleet file.
struct Fleet {
  std::vector<std::shared_ptr<const ThingModel>> products;
  std::vector<DeviceConfig> devices;
  // The fleet-wide `drivers.<name>` sections, parsed, for every driver a device uses
  // (null for a driver without one).
  absl::flat_hash_map<std::string, std::shared_ptr<const DriverSettings>> driver_sections;
};

// Parses and validates a fleet file with the drivers of `drivers` (the built-in ones when
// not given). Every error names the file, the line and the problem, for example
// "fleet.yaml:12: property 'temperature': unknown type 'flaot'".
absl::StatusOr<Fleet> LoadFleetFile(const std::string& path);
absl::StatusOr<Fleet> LoadFleetFile(const std::string& path, const DriverRegistry& drivers);
absl::StatusOr<Fleet> ParseFleet(const std::string& yaml_text, absl::string_view source_name);
absl::StatusOr<Fleet> ParseFleet(const std::string& yaml_text, absl::string_view source_name,
                                 const DriverRegistry& drivers);

// "fleet.yaml:12" for a node.
std::string NodeLocation(absl::string_view source_name, const YAML::Node& node);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_FLEET_H_
