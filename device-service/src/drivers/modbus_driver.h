#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_DRIVER_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_DRIVER_H_

#include <memory>

#include "device-service/src/driver_registry.h"

// The `modbus` driver: devices behind Modbus TCP servers and gateways, through libmodbus.
//
//   devices:
//     - key: meter7
//       product: meter-product
//       driver: modbus
//       settings:
//         endpoint: 10.0.0.7:502      # the server or gateway
//         unit_id: 3                  # the unit behind it
//         poll_interval_ms: 1000      # reports come from polling; 0 = none
//         timeout_ms: 500             # per request
//         registers:                  # every property of the product
//           voltage: {table: input, address: 0, type: float32, scale: 0.1}
//           relay:   {table: coil, address: 0}
//         functions:                  # every function of the product
//           resetEnergy: {writes: [{table: holding, address: 10, type: uint32, value: 0}]}
//
// One TCP connection and one thread per endpoint, shared by every unit behind it: requests
// to an endpoint run one at a time (many gateways take no more), from a bounded queue;
// different endpoints run in parallel. The blocking libmodbus calls run only on these
// threads, never on a gRPC or Asio thread. docs/device-service.md has the whole story.
namespace nb::device {

std::unique_ptr<DriverFactory> MakeModbusDriverFactory();

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_DRIVER_H_
