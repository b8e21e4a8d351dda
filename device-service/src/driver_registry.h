#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVER_REGISTRY_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVER_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/io_context.hpp"
#include "device-service/src/driver.h"
#include "device-service/src/thing_model.h"
#include "prometheus/registry.h"
#include "yaml-cpp/yaml.h"

namespace nb::device {

// What a driver is given to run on: the driver threads' io_context and the metrics
// registry for its own families. Both outlive every driver.
struct DriverContext {
  boost::asio::io_context& io;
  prometheus::Registry& metrics;
};

// Makes one kind of driver, named by the fleet's `driver:` field, and parses its settings
// into typed structs at fleet load, so a bad setting stops start-up with the file line and
// drivers never see YAML.
//
//   drivers:                 # optional, fleet-wide: ParseSection gets drivers.<name>
//     mqtt: {brokers: [...]}
//   devices:
//     - {key: d1, product: p, driver: mqtt, settings: {...}}   # ParseDevice gets settings
//
// Threads: main thread only, at start-up.
class DriverFactory {
 public:
  virtual ~DriverFactory() = default;
  virtual absl::string_view name() const = 0;

  // The fleet-wide section `drivers.<name>`; `section` is a null node (IsNull) when absent. Errors
  // name the line (use `locate`).
  virtual absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseSection(
      const YAML::Node& section, const NodeLocator& locate) const;

  // One device's `settings` (a map, empty when absent), checked against its product and
  // the parsed section (null when this driver has none). Errors start with `where`
  // ("fleet.yaml:12: device 'd1'") or name a deeper line with `locate`.
  virtual absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel& model, const DriverSettings* section,
      absl::string_view where, const NodeLocator& locate) const = 0;

  // The one driver instance that serves every device of this kind.
  virtual absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext& context,
                                                         const DriverSettings* section) const = 0;
};

// The driver kinds device-service knows, by name.
class DriverRegistry {
 public:
  // sim, mqtt and every other driver built into device-service.
  static const DriverRegistry& Builtin();

  void Add(std::unique_ptr<DriverFactory> factory);
  const DriverFactory* Find(absl::string_view name) const;
  // "mqtt, sim": for error messages.
  std::string Names() const;

 private:
  std::vector<std::unique_ptr<DriverFactory>> factories_;
};

// Registers the drivers built into device-service (defined with them, in drivers/).
void AddBuiltinDrivers(DriverRegistry& registry);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVER_REGISTRY_H_
