// libFuzzer target: the fleet file loader with every built-in driver's settings, as
// device-service reads it at start (docs/device-service.md, "The fleet file").
#include <cstdint>
#include <string>

#include "device-service/src/driver_registry.h"
#include "device-service/src/fleet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<nb::device::Fleet> fleet =
      nb::device::ParseFleet(text, "fuzz.yaml", nb::device::DriverRegistry::Builtin());
  (void)fleet;
  return 0;
}
