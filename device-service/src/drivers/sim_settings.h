#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_SIM_SETTINGS_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_SIM_SETTINGS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "device-service/src/fleet.h"
#include "device-service/src/thing_model.h"
#include "google/protobuf/struct.pb.h"

// The `sim` driver's per-device settings (sim_driver.h shows them), parsed at fleet load.
namespace nb::device {

struct FunctionBehaviour {
  int latency_ms = -1;  // -1: the device's latency.
  std::string fail;     // Non-empty: the function fails with this message.
};

struct SimSettings : DriverSettings {
  int latency_ms = 10;
  bool online = true;
  int report_interval_ms = 0;
  int event_interval_ms = 0;
  int flap_interval_ms = 0;
  google::protobuf::Struct initial;
  absl::flat_hash_map<std::string, FunctionBehaviour> functions;
};

// Errors start with `where` ("fleet.yaml:12: device 'd1'").
absl::StatusOr<SimSettings> ParseSimSettings(const YAML::Node& node, const ThingModel& model,
                                             absl::string_view where);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_SIM_SETTINGS_H_
