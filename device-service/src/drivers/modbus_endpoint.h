#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_ENDPOINT_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_ENDPOINT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "common/mutex.h"
#include "device-service/src/driver.h"
#include "device-service/src/drivers/modbus_codec.h"
#include "device-service/src/drivers/modbus_metrics.h"
#include "device-service/src/drivers/modbus_settings.h"

// libmodbus's connection type, declared as modbus.h does; only the .cc files include it.
typedef struct _modbus modbus_t;

namespace nb::device {
namespace modbus {

using Clock = std::chrono::steady_clock;

// One device as its endpoint's thread sees it.
struct Unit {
  DeviceIndex index = 0;
  std::shared_ptr<const ModbusDeviceSettings> settings;
  std::shared_ptr<const ThingModel> model;
  // Read by Execute on any thread; written by the endpoint thread.
  std::atomic<bool> online{false};
  // Endpoint thread only.
  int failures = 0;
  Clock::time_point next_poll = Clock::time_point::max();
  int polls_since_report = 0;
  absl::flat_hash_map<std::string, double> last_values;
};

// A command waiting for its turn on the endpoint.
struct Job {
  Unit* unit = nullptr;
  Command command;
  AnswerCallback on_answer;
};

// The result of one Modbus request.
struct Result {
  ModbusMetrics::Outcome outcome = ModbusMetrics::Outcome::kOk;
  std::string message;
  bool ok() const { return outcome == ModbusMetrics::Outcome::kOk; }
};

// Values read from one unit, by table and address.
using Registers = std::map<std::pair<Table, int>, uint16_t>;

}  // namespace modbus

// One Modbus TCP server or gateway: its connection, its queue and the thread that owns
// both. Add and Start run on the main thread before any command, Stop at shutdown;
// Execute and Forget may be called from any thread in between. Everything that touches
// the connection runs on the endpoint's thread.
//
// modbus_endpoint.cc holds the connection, the queue, the schedule and what a failed
// request means; modbus_commands.cc what READ, WRITE, INVOKE and a poll mean in registers.
class ModbusEndpoint {
 public:
  using Unit = modbus::Unit;

  ModbusEndpoint(std::string host, int port, const ModbusSection& section, ModbusMetrics& metrics);
  ~ModbusEndpoint();
  ModbusEndpoint(const ModbusEndpoint&) = delete;
  ModbusEndpoint& operator=(const ModbusEndpoint&) = delete;

  void Add(Unit* unit) { units_.push_back(unit); }
  void Start(DeviceListener* listener);
  // Joins the thread (a request on the wire finishes first, bounded by its timeout) and
  // answers what is still queued with NO_REPLY.
  void Stop();

  void Execute(Unit& unit, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer);
  void Forget(const std::string& message_id);

 private:
  using Clock = modbus::Clock;
  using Job = modbus::Job;
  using Result = modbus::Result;
  using Registers = modbus::Registers;

  // modbus_endpoint.cc: the thread, the connection and the units' state.
  void Run();
  bool Connect();
  // A connection after none: every unit is read at once, and the answer is what brings
  // it online.
  void OnConnected();
  // Replaces the connection with a new one, keeping the queue and the units' state; when
  // that fails the endpoint is down.
  void Resync();
  // The connection failed: every unit goes offline, queued commands get NO_REPLY, and
  // the thread connects again after a backoff.
  void Drop(absl::string_view why);
  void Disconnect();
  void SetOnline(Unit& unit, bool online);
  // Sends one request to `unit`, with its timeout bounded by `deadline`.
  Result Request(Unit& unit, Clock::time_point deadline, absl::FunctionRef<int(modbus_t*)> call);
  // What a failed request means for the unit and the connection. True when the
  // connection is still usable.
  bool Settle(Unit& unit, const Result& result);
  void Answer(Job& job, absl::Status status);
  void Answer(Job& job, DeviceAnswer answer);

  // modbus_commands.cc: commands and polls in registers.
  void RunCommand(Job& job);
  // Reads every property of `unit`; reports what changed (and everything every
  // report_every_polls polls). An offline unit is probed the same way.
  void Poll(Unit& unit);
  // Reads `locations` of `unit` in as few requests as the spec allows.
  Result ReadAll(Unit& unit, const std::vector<const modbus::Location*>& locations,
                 Clock::time_point deadline, Registers& registers);
  // Reads `ids` (properties of the unit) into `payload`; a value the thing model refuses
  // makes the read a DEVICE_ERROR.
  absl::Status ReadProperties(Unit& unit, const std::vector<std::string>& ids,
                              Clock::time_point deadline, google::protobuf::Struct& payload);
  absl::Status Write(Unit& unit, const modbus::Location& location, double value,
                     Clock::time_point deadline);
  absl::Status Failure(const Unit& unit, const Result& result);
  absl::Status ConnectionLost();

  const std::string host_;
  const int port_;
  const std::string name_;
  const ModbusSection& section_;
  ModbusMetrics& metrics_;
  std::vector<Unit*> units_;  // fixed before Start
  DeviceListener* listener_ = nullptr;
  std::thread thread_;

  Mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> forgotten_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string running_ ABSL_GUARDED_BY(mu_);  // the message id of the command running

  // The endpoint thread's own.
  modbus_t* context_ = nullptr;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool connect_failed_logged_ = false;
  std::mt19937 random_;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_ENDPOINT_H_
