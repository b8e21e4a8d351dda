#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_BROKER_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_BROKER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "device-service/src/driver.h"
#include "device-service/src/drivers/mqtt_metrics.h"
#include "device-service/src/drivers/mqtt_settings.h"

namespace nb::device {

// One device behind a broker. Fixed after start-up but for the state the broker's loop
// thread keeps (`online` is also read by Execute, from any thread).
struct MqttDevice {
  DeviceIndex index = 0;
  std::string product_key;
  std::string device_key;
  std::shared_ptr<const ThingModel> model;
  std::chrono::milliseconds offline_after{0};
  std::atomic<bool> online{false};
  // Loop thread only.
  std::chrono::steady_clock::time_point last_seen;
  bool said_offline = false;  // Its last status was "offline" (or the Last Will).
};

// One MQTT client connection and the devices behind it: the Driver contract (driver.h) for
// those devices, plus AddDevice before Start.
//
// Threads: a loop thread of its own runs the MQTT client (connect, read, write,
// keep-alive), every incoming message, the offline and deadline sweeps and the listener
// calls. Execute and Forget run on any thread between Start and Stop.
class BrokerConnection {
 public:
  virtual ~BrokerConnection() = default;
  virtual void AddDevice(std::unique_ptr<MqttDevice> device) = 0;
  virtual absl::Status Start(DeviceListener* listener) = 0;
  virtual void Stop() = 0;
  virtual void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
                       AnswerCallback on_answer) = 0;
  virtual void Forget(const std::string& message_id) = 0;
};

// A connection through libmosquitto, the only MQTT library device-service links.
std::unique_ptr<BrokerConnection> MakeBrokerConnection(BrokerSettings settings,
                                                       std::string password, MqttMetrics& metrics);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_BROKER_H_
