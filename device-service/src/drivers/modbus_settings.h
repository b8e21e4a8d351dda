#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_SETTINGS_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_SETTINGS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "device-service/src/drivers/modbus_codec.h"
#include "device-service/src/fleet.h"
#include "device-service/src/thing_model.h"

// The `modbus` driver's settings (docs/device-service.md shows them in a fleet file),
// parsed at fleet load; every error names the line.
namespace nb::device {

// drivers.modbus, optional: what every endpoint shares.
struct ModbusSection : DriverSettings {
  // Commands waiting for one endpoint; past it they fail at once with DEVICE_BUSY.
  int queue_limit = 64;
  int reconnect_min_ms = 200;
  int reconnect_max_ms = 10'000;
  // Consecutive timeouts after which a device is offline (and, when every device of the
  // endpoint is silent, the connection is dropped and made again).
  int offline_after_failures = 3;
};

struct ModbusProperty {
  std::string id;
  devicepb::DataType data_type = devicepb::DATA_TYPE_UNSPECIFIED;
  modbus::Location location;
};

struct ModbusWrite {
  modbus::Location location;
  double value = 0;
};

struct ModbusFunction {
  std::string id;
  std::vector<ModbusWrite> writes;
  // Outputs of the function, each read back from the property of the same id.
  std::vector<std::string> outputs;
};

// One device's settings.
struct ModbusDeviceSettings : DriverSettings {
  std::string host;
  int port = 502;
  int unit_id = 1;
  int poll_interval_ms = 1000;             // 0: no polling
  int timeout_ms = 500;                    // per Modbus request
  int report_every_polls = 0;              // also report unchanged values every N polls; 0: never
  std::vector<ModbusProperty> properties;  // every property of the product, model order
  std::vector<ModbusFunction> functions;   // every function of the product

  std::string endpoint() const;  // "host:port"
  const ModbusProperty* FindProperty(absl::string_view id) const;
  const ModbusFunction* FindFunction(absl::string_view id) const;
};

absl::StatusOr<std::shared_ptr<const ModbusSection>> ParseModbusSection(const YAML::Node& section,
                                                                        const NodeLocator& locate);

absl::StatusOr<std::shared_ptr<const ModbusDeviceSettings>> ParseModbusDevice(
    const YAML::Node& settings, const ThingModel& model, absl::string_view where,
    const NodeLocator& locate);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_SETTINGS_H_
