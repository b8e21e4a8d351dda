#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_SIM_DRIVER_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_SIM_DRIVER_H_

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "device-service/src/driver.h"
#include "device-service/src/driver_registry.h"

namespace nb::device {

// Simulated devices, the embedded default: they answer after a per-device latency, report
// drifting values on an interval, raise events, go offline and come back, and have
// functions that are slow or fail, all as the fleet file's `settings` say:
//
//   settings:
//     latency_ms: 20            # answer delay (default 10)
//     online: true              # false: never connects
//     report_interval_ms: 1000  # property reports (0: none; default 0)
//     event_interval_ms: 0      # one event of the product every N ms (0: none)
//     flap_interval_ms: 0       # toggle online/offline every N ms (0: never)
//     initial: {temperature: 20.5}
//     functions:
//       firmwareUpgrade: {latency_ms: 15000}
//       selfTest: {fail: "sensor self-test failed"}
//
// Each device lives on its own strand of the driver's io_context.
class SimDriver : public Driver {
 public:
  explicit SimDriver(boost::asio::io_context& io);
  ~SimDriver() override;

  absl::string_view name() const override { return "sim"; }
  absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                         std::shared_ptr<const ThingModel> model) override;
  absl::Status Start(DeviceListener* listener) override;
  void Stop() override;
  void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override;
  void Forget(DeviceIndex device, const std::string& message_id) override;

 private:
  class SimDevice;

  boost::asio::io_context& io_;
  bool stopped_ = false;
  absl::flat_hash_map<DeviceIndex, std::shared_ptr<SimDevice>> devices_;
};

// The factory of `driver: sim` (the default when a device names no driver).
std::unique_ptr<DriverFactory> MakeSimDriverFactory();

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_SIM_DRIVER_H_
