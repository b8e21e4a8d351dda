#ifndef NORTHBOUND_DEVICE_SERVICE_FLEET_H_
#define NORTHBOUND_DEVICE_SERVICE_FLEET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "device-service/src/thing_model.h"
#include "yaml-cpp/yaml.h"

namespace nb::device {

// One device entry of the fleet file. The driver reads its own `settings`.
struct DeviceConfig {
  std::string key;
  std::string product_key;
  std::string name;
  std::string driver;
  YAML::Node settings;
  // Where the entry starts, for error messages: "fleet.yaml:42".
  std::string location;
};

// The products (with thing models) and devices of a fleet file.
struct Fleet {
  std::vector<std::shared_ptr<const ThingModel>> products;
  std::vector<DeviceConfig> devices;
};

// Parses and validates a fleet file. Every error names the file, the line and the
// problem, for example "fleet.yaml:12: property 'temperature': unknown type 'flaot'".
absl::StatusOr<Fleet> LoadFleetFile(const std::string& path);
absl::StatusOr<Fleet> ParseFleet(const std::string& yaml_text, absl::string_view source_name);

// "fleet.yaml:12" for a node.
std::string NodeLocation(absl::string_view source_name, const YAML::Node& node);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_FLEET_H_
