#include "device-service/src/driver_registry.h"
#include "device-service/src/drivers/modbus_driver.h"
#include "device-service/src/drivers/mqtt_driver.h"
#include "device-service/src/drivers/sim_driver.h"

namespace nb::device {

void AddBuiltinDrivers(DriverRegistry& registry) {
  registry.Add(MakeSimDriverFactory());
  registry.Add(MakeMqttDriverFactory());
  registry.Add(MakeModbusDriverFactory());
}

}  // namespace nb::device
