#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVER_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "device-service/src/fleet.h"
#include "google/protobuf/struct.pb.h"
#include "northbound/device/v1/device_service.pb.h"

namespace nb::device {

// A device as drivers and the registry name it: its index in the fleet.
using DeviceIndex = int;

// One command for one device, already checked against the thing model.
struct Command {
  northbound::device::v1::MessageType type = northbound::device::v1::MESSAGE_TYPE_UNSPECIFIED;
  std::string message_id;
  std::vector<std::string> properties;  // READ_PROPERTY: the ids to read (never empty).
  google::protobuf::Struct values;      // WRITE_PROPERTY.
  std::string function_id;              // INVOKE_FUNCTION.
  google::protobuf::Struct inputs;      // INVOKE_FUNCTION.
  // When the caller stops waiting. A driver may drop the command past it on its own; the
  // caller also says so with Driver::Forget.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// The device's answer: the property map (read, write) or the function's outputs (invoke),
// or a status carrying an error code (NO_REPLY, DEVICE_ERROR ...).
struct DeviceAnswer {
  absl::Status status;
  google::protobuf::Struct payload;
};

using DispatchCallback = absl::AnyInvocable<void(absl::Status) &&>;
using AnswerCallback = absl::AnyInvocable<void(DeviceAnswer) &&>;

// Receives what devices do on their own. Called from driver threads; implementations must
// not block.
class DeviceListener {
 public:
  virtual ~DeviceListener() = default;
  virtual void OnConnectionChanged(DeviceIndex device, bool online) = 0;
  virtual void OnPropertyReport(DeviceIndex device, google::protobuf::Struct values) = 0;
  virtual void OnEvent(DeviceIndex device, const std::string& event_id,
                       google::protobuf::Struct data) = 0;
};

// How device-service reaches devices of one kind. A driver may own TCP connections and
// reconnect them (Modbus), or work through a broker (MQTT), or simulate (sim). Drivers are
// made by their DriverFactory (driver_registry.h) from settings parsed at fleet load.
//
// Threads: AddDevice, Start and Stop run on the main thread at start-up and shutdown.
// Execute and Forget may be called from any thread, concurrently, between Start and Stop.
class Driver {
 public:
  virtual ~Driver() = default;

  virtual absl::string_view name() const = 0;

  // Takes one device of the fleet; `config.settings` is what this driver's factory parsed.
  // Errors name the fleet file line (config.location).
  virtual absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                                 std::shared_ptr<const ThingModel> model) = 0;

  // Starts connecting; from here on the driver reports to `listener` (which outlives it).
  virtual absl::Status Start(DeviceListener* listener) = 0;

  // Stops every connection. Commands in flight are answered with NO_REPLY before it
  // returns, and when it returns no callback of this driver (answers, listener calls)
  // runs any more. The threads the driver was given must still be running.
  virtual void Stop() = 0;

  // Sends `command` to a device. `on_dispatched` runs exactly once: OK as soon as the
  // command is on the device's connection, or the reason it is not (CLIENT_OFFLINE). Only
  // after an OK dispatch, `on_answer` runs at most once: with the device's answer, or with
  // NO_REPLY if the connection drops first, unless the command was forgotten before.
  // Callbacks may run on any driver thread (or inside Execute) and must not block.
  virtual void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
                       AnswerCallback on_answer) = 0;

  // The caller no longer waits for `message_id` (it timed out or was cancelled): the
  // driver drops what it holds for it, and an answer that still comes is counted as
  // unmatched, never delivered. Harmless for a command already answered.
  virtual void Forget(DeviceIndex device, const std::string& message_id) = 0;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVER_H_
