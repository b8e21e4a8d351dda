#include "device-service/src/drivers/modbus_driver.h"

#include <errno.h>
#include <modbus/modbus.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/status.h"
#include "device-service/src/drivers/modbus_codec.h"
#include "device-service/src/drivers/modbus_settings.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;
using Clock = std::chrono::steady_clock;

// The driver's metric families (docs/device-service.md lists them). Thread-safe.
class ModbusMetrics {
 public:
  enum class Outcome { kOk, kException, kTimeout, kBadResponse, kBroken };

  explicit ModbusMetrics(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("northbound_modbus_requests_total")
                      .Help("Modbus requests by outcome: ok, exception (the device refused), "
                            "timeout, bad_response, broken (the connection failed)")
                      .Register(registry)),
        latency_(prometheus::BuildHistogram()
                     .Name("northbound_modbus_request_seconds")
                     .Help("Time from sending a Modbus request to its answer")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005,
                                                                      0.01, 0.025, 0.05, 0.1, 0.25,
                                                                      0.5, 1, 2.5})),
        connected_(prometheus::BuildGauge()
                       .Name("northbound_modbus_endpoints_connected")
                       .Help("Modbus endpoints with an open connection")
                       .Register(registry)
                       .Add({})),
        reconnects_(prometheus::BuildCounter()
                        .Name("northbound_modbus_reconnects_total")
                        .Help("Connections made again after one failed or went silent")
                        .Register(registry)
                        .Add({})),
        rejected_(prometheus::BuildCounter()
                      .Name("northbound_modbus_commands_rejected_total")
                      .Help("Commands not sent: busy (the endpoint's queue was full), offline")
                      .Register(registry)),
        polls_(prometheus::BuildCounter()
                   .Name("northbound_modbus_polls_total")
                   .Help("Polls of every property of a device")
                   .Register(registry)
                   .Add({})),
        invalid_(prometheus::BuildCounter()
                     .Name("northbound_modbus_invalid_values_total")
                     .Help("Values read from a device that its thing model refuses")
                     .Register(registry)
                     .Add({})) {
    for (auto [outcome, label] : {std::pair{Outcome::kOk, "ok"},
                                  {Outcome::kException, "exception"},
                                  {Outcome::kTimeout, "timeout"},
                                  {Outcome::kBadResponse, "bad_response"},
                                  {Outcome::kBroken, "broken"}}) {
      outcomes_[static_cast<size_t>(outcome)] = &requests_.Add({{"outcome", label}});
    }
    busy_ = &rejected_.Add({{"reason", "busy"}});
    offline_ = &rejected_.Add({{"reason", "offline"}});
  }

  void CountRequest(Outcome outcome, double seconds) {
    outcomes_[static_cast<size_t>(outcome)]->Increment();
    if (outcome != Outcome::kBroken) latency_.Observe(seconds);
  }
  prometheus::Gauge& connected() { return connected_; }
  prometheus::Counter& reconnects() { return reconnects_; }
  prometheus::Counter& busy() { return *busy_; }
  prometheus::Counter& offline() { return *offline_; }
  prometheus::Counter& polls() { return polls_; }
  prometheus::Counter& invalid() { return invalid_; }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& latency_;
  prometheus::Gauge& connected_;
  prometheus::Counter& reconnects_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Counter& polls_;
  prometheus::Counter& invalid_;
  std::array<prometheus::Counter*, 5> outcomes_{};
  prometheus::Counter* busy_ = nullptr;
  prometheus::Counter* offline_ = nullptr;
};

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
using Registers = std::map<std::pair<modbus::Table, int>, uint16_t>;

google::protobuf::Value ToValue(devicepb::DataType type, double value) {
  google::protobuf::Value out;
  if (type == devicepb::BOOL) {
    out.set_bool_value(value != 0);
  } else if (type == devicepb::INT || type == devicepb::LONG || type == devicepb::DATE) {
    out.set_number_value(std::nearbyint(value));
  } else {
    out.set_number_value(value);
  }
  return out;
}

// One Modbus TCP server or gateway: its connection, its queue and the thread that owns
// both. Execute and Forget may be called from any thread; everything else that touches
// the connection runs on the endpoint's thread.
class Endpoint {
 public:
  Endpoint(std::string host, int port, const ModbusSection& section, ModbusMetrics& metrics)
      : host_(std::move(host)),
        port_(port),
        name_(absl::StrCat(host_, ":", port_)),
        section_(section),
        metrics_(metrics),
        random_(std::random_device{}()) {}

  ~Endpoint() {
    if (context_ != nullptr) modbus_free(context_);
  }

  void Add(Unit* unit) { units_.push_back(unit); }

  void Start(DeviceListener* listener) {
    listener_ = listener;
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::deque<Job> left;
    {
      MutexLock lock(mu_);
      left.swap(queue_);
    }
    for (Job& job : left)
      Answer(job, ErrorStatus(ErrorCode::NO_REPLY, "device-service is stopping"));
  }

  void Execute(Unit& unit, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) {
    if (!unit.online.load()) {
      metrics_.offline().Increment();
      std::move(on_dispatched)(
          ErrorStatus(ErrorCode::CLIENT_OFFLINE,
                      absl::StrCat("no answer from ", name_, " unit ", unit.settings->unit_id)));
      return;
    }
    {
      MutexLock lock(mu_);
      if (stopping_) {
        lock.Unlock();
        std::move(on_dispatched)(
            ErrorStatus(ErrorCode::CLIENT_OFFLINE, "device-service is stopping"));
        return;
      }
      if (queue_.size() >= static_cast<size_t>(section_.queue_limit)) {
        lock.Unlock();
        metrics_.busy().Increment();
        std::move(on_dispatched)(ErrorStatus(
            ErrorCode::DEVICE_BUSY,
            absl::StrCat(name_, " has ", section_.queue_limit, " commands waiting; retry later")));
        return;
      }
      queue_.push_back(Job{&unit, std::move(command), std::move(on_answer)});
    }
    wake_.notify_all();
    std::move(on_dispatched)(absl::OkStatus());
  }

  void Forget(const std::string& message_id) {
    MutexLock lock(mu_);
    // Dropped when its turn comes; a command already running finishes, unheard.
    bool known = running_ == message_id;
    for (const Job& job : queue_) known = known || job.command.message_id == message_id;
    if (known) forgotten_.insert(message_id);
  }

 private:
  void Run() {
    Clock::time_point retry_at = Clock::now();
    int backoff_ms = section_.reconnect_min_ms;
    while (true) {
      std::optional<Job> job;
      Unit* poll = nullptr;
      {
        MutexLock lock(mu_);
        if (stopping_) break;
        if (context_ == nullptr || !connected_) {
          if (Clock::now() < retry_at) {
            lock.WaitUntil(wake_, retry_at);
            continue;
          }
        } else if (!queue_.empty()) {
          job = std::move(queue_.front());
          queue_.pop_front();
          if (forgotten_.erase(job->command.message_id) > 0) continue;
          running_ = job->command.message_id;
        } else {
          Clock::time_point due = Clock::time_point::max();
          for (Unit* unit : units_) {
            if (unit->next_poll < due) {
              due = unit->next_poll;
              poll = unit;
            }
          }
          if (due > Clock::now()) {
            if (due == Clock::time_point::max()) {
              lock.Wait(wake_);
            } else {
              lock.WaitUntil(wake_, due);
            }
            continue;
          }
        }
      }
      if (!connected_) {
        if (Connect()) {
          OnConnected();
          backoff_ms = section_.reconnect_min_ms;
        } else {
          // Capped exponential backoff with 50-100 % jitter.
          std::uniform_int_distribution<int> jitter(backoff_ms / 2, backoff_ms);
          retry_at = Clock::now() + std::chrono::milliseconds(jitter(random_));
          backoff_ms = std::min(backoff_ms * 2, section_.reconnect_max_ms);
        }
        continue;
      }
      if (job) {
        if (job->command.deadline <= Clock::now()) continue;  // its caller gave up
        RunCommand(*job);
      } else if (poll != nullptr) {
        Poll(*poll);
      }
    }
    Disconnect();
  }

  bool Connect() {
    if (context_ == nullptr) {
      context_ = modbus_new_tcp_pi(host_.c_str(), std::to_string(port_).c_str());
      if (context_ == nullptr) {
        log::Error("modbus endpoint unusable", {{"endpoint", name_}, {"error", strerror(errno)}});
        return false;
      }
    }
    if (modbus_connect(context_) != 0) {
      if (!connect_failed_logged_) {
        log::Warn("modbus endpoint unreachable; retrying",
                  {{"endpoint", name_}, {"error", modbus_strerror(errno)}});
        connect_failed_logged_ = true;
      }
      return false;
    }
    connect_failed_logged_ = false;
    if (ever_connected_) metrics_.reconnects().Increment();
    ever_connected_ = true;
    connected_ = true;
    metrics_.connected().Increment();
    return true;
  }

  // A connection after none: every unit is read at once, and the answer is what brings
  // it online.
  void OnConnected() {
    log::Info("modbus endpoint connected", {{"endpoint", name_}});
    for (Unit* unit : units_) {
      unit->failures = 0;
      unit->next_poll = Clock::now();
    }
  }

  // Replaces the connection with a new one, keeping the queue and the units' state; when
  // that fails the endpoint is down.
  void Resync() {
    Disconnect();
    if (!Connect()) Drop("cannot reconnect");
  }

  // The connection failed: every unit goes offline, queued commands get NO_REPLY, and
  // the thread connects again after a backoff.
  void Drop(absl::string_view why) {
    if (connected_) {
      log::Warn("modbus connection lost", {{"endpoint", name_}, {"reason", std::string(why)}});
    }
    Disconnect();
    std::deque<Job> left;
    {
      MutexLock lock(mu_);
      left.swap(queue_);
      forgotten_.clear();
    }
    for (Job& job : left) {
      Answer(job, ErrorStatus(ErrorCode::NO_REPLY,
                              absl::StrCat("connection to ", name_, " lost: ", why)));
    }
    for (Unit* unit : units_) {
      SetOnline(*unit, false);
      unit->next_poll = Clock::time_point::max();
    }
  }

  void Disconnect() {
    if (!connected_) return;
    modbus_close(context_);
    connected_ = false;
    metrics_.connected().Decrement();
  }

  void SetOnline(Unit& unit, bool online) {
    if (unit.online.exchange(online) == online) return;
    if (online) unit.polls_since_report = 0, unit.last_values.clear();
    listener_->OnConnectionChanged(unit.index, online);
  }

  // Sends one request to `unit`, with its timeout bounded by `deadline`.
  template <typename Call>
  Result Request(Unit& unit, Clock::time_point deadline, Call call) {
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
    const int64_t timeout_us =
        std::clamp<int64_t>(left.count(), 10'000, int64_t{unit.settings->timeout_ms} * 1000);
    modbus_set_slave(context_, unit.settings->unit_id);
    modbus_set_response_timeout(context_, static_cast<uint32_t>(timeout_us / 1'000'000),
                                static_cast<uint32_t>(timeout_us % 1'000'000));
    Result result;
    if (!connected_) {
      result.outcome = ModbusMetrics::Outcome::kBroken;
      result.message = "not connected";
      return result;
    }
    const Clock::time_point start = Clock::now();
    const int rc = call(context_);
    const int error = errno;
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (rc >= 0) {
      metrics_.CountRequest(ModbusMetrics::Outcome::kOk, seconds);
      return result;
    }
    result.message = modbus_strerror(error);
    if (error >= EMBXILFUN && error <= EMBXGTAR) {
      result.outcome = ModbusMetrics::Outcome::kException;
      result.message =
          absl::StrCat("Modbus exception ", error - MODBUS_ENOBASE, ": ", modbus_strerror(error));
    } else if (error == ETIMEDOUT) {
      result.outcome = ModbusMetrics::Outcome::kTimeout;
    } else if (error > MODBUS_ENOBASE) {
      result.outcome = ModbusMetrics::Outcome::kBadResponse;
    } else {
      result.outcome = ModbusMetrics::Outcome::kBroken;
    }
    metrics_.CountRequest(result.outcome, seconds);
    if (result.outcome == ModbusMetrics::Outcome::kTimeout ||
        result.outcome == ModbusMetrics::Outcome::kBadResponse) {
      // The answer may still come, late, and would be taken for the next request's (a
      // stalled server answers everything at once when it resumes): only a new connection
      // pairs requests and answers again.
      Resync();
    }
    return result;
  }

  // What a failed request means for the unit and the connection. True when the
  // connection is still usable.
  bool Settle(Unit& unit, const Result& result) {
    using Outcome = ModbusMetrics::Outcome;
    if (result.outcome == Outcome::kBroken || !connected_) {
      Drop(result.message);
      return false;
    }
    if (result.outcome == Outcome::kOk || result.outcome == Outcome::kException) {
      // An exception is an answer: the unit is there.
      unit.failures = 0;
      SetOnline(unit, true);
      return true;
    }
    if (++unit.failures >= section_.offline_after_failures) {
      SetOnline(unit, false);
      if (std::none_of(units_.begin(), units_.end(), [](Unit* u) { return u->online.load(); })) {
        // Nobody behind this connection answers: it may be half-open. Make it again.
        Drop("no unit answers");
        return false;
      }
    }
    return true;
  }

  // Reads `locations` of `unit` in as few requests as the spec allows.
  Result ReadAll(Unit& unit, const std::vector<const modbus::Location*>& locations,
                 Clock::time_point deadline, Registers& registers) {
    std::vector<modbus::Span> spans;
    for (const modbus::Location* location : locations) {
      spans.push_back({location->table, location->address, modbus::Width(location->type)});
    }
    for (const modbus::Span& span : modbus::PlanReads(std::move(spans))) {
      uint16_t words[modbus::kMaxReadRegisters];
      uint8_t bits[modbus::kMaxReadBits];
      Result result = Request(unit, deadline, [&](modbus_t* context) {
        switch (span.table) {
          case modbus::Table::kCoil:
            return modbus_read_bits(context, span.address, span.count, bits);
          case modbus::Table::kDiscrete:
            return modbus_read_input_bits(context, span.address, span.count, bits);
          case modbus::Table::kInput:
            return modbus_read_input_registers(context, span.address, span.count, words);
          case modbus::Table::kHolding:
            return modbus_read_registers(context, span.address, span.count, words);
        }
        return -1;
      });
      if (!result.ok()) return result;
      for (int i = 0; i < span.count; ++i) {
        registers[{span.table, span.address + i}] =
            modbus::IsBitTable(span.table) ? bits[i] : words[i];
      }
    }
    return Result{};
  }

  static double DecodeFrom(const Registers& registers, const modbus::Location& location) {
    uint16_t words[4] = {};
    for (int i = 0; i < modbus::Width(location.type); ++i) {
      words[i] = registers.at({location.table, location.address + i});
    }
    return modbus::Decode(location, words);
  }

  // Reads `ids` (properties of the unit) into `payload`; a value the thing model refuses
  // makes the read a DEVICE_ERROR.
  absl::Status ReadProperties(Unit& unit, const std::vector<std::string>& ids,
                              Clock::time_point deadline, google::protobuf::Struct& payload) {
    std::vector<const ModbusProperty*> properties;
    std::vector<const modbus::Location*> locations;
    for (const std::string& id : ids) {
      const ModbusProperty* property = unit.settings->FindProperty(id);
      if (property == nullptr) {
        return ErrorStatus(ErrorCode::PROPERTY_UNDEFINED, absl::StrCat("no property '", id, "'"));
      }
      properties.push_back(property);
      locations.push_back(&property->location);
    }
    Registers registers;
    Result result = ReadAll(unit, locations, deadline, registers);
    if (!Settle(unit, result)) return ConnectionLost();
    if (!result.ok()) return Failure(unit, result);
    for (const ModbusProperty* property : properties) {
      google::protobuf::Value value =
          ToValue(property->data_type, DecodeFrom(registers, property->location));
      const devicepb::PropertyDef* def = unit.model->FindProperty(property->id);
      if (absl::Status s = CheckValue(def->spec(), value, "property", property->id); !s.ok()) {
        metrics_.invalid().Increment();
        return ErrorStatus(
            ErrorCode::DEVICE_ERROR,
            absl::StrCat("the device's value is refused by the thing model: ", s.message()));
      }
      (*payload.mutable_fields())[property->id] = std::move(value);
    }
    return absl::OkStatus();
  }

  absl::Status Write(Unit& unit, const modbus::Location& location, double value,
                     Clock::time_point deadline) {
    absl::StatusOr<std::vector<uint16_t>> words = modbus::Encode(location, value);
    if (!words.ok()) return ErrorStatus(ErrorCode::PARAMETER_ERROR, words.status().message());
    Result result = Request(unit, deadline, [&](modbus_t* context) {
      if (location.table == modbus::Table::kCoil) {
        return modbus_write_bit(context, location.address, (*words)[0] != 0);  // function 5
      }
      if (words->size() == 1) {
        return modbus_write_register(context, location.address, (*words)[0]);  // function 6
      }
      return modbus_write_registers(context, location.address, static_cast<int>(words->size()),
                                    words->data());  // function 16
    });
    if (!Settle(unit, result)) return ConnectionLost();
    if (!result.ok()) return Failure(unit, result);
    return absl::OkStatus();
  }

  absl::Status Failure(const Unit& unit, const Result& result) {
    if (result.outcome == ModbusMetrics::Outcome::kTimeout) {
      return ErrorStatus(ErrorCode::TIME_OUT,
                         absl::StrCat("no answer from ", name_, " unit ", unit.settings->unit_id,
                                      " within ", unit.settings->timeout_ms, " ms"));
    }
    return ErrorStatus(ErrorCode::DEVICE_ERROR, result.message);
  }

  absl::Status ConnectionLost() {
    return ErrorStatus(ErrorCode::NO_REPLY, absl::StrCat("connection to ", name_, " lost"));
  }

  void RunCommand(Job& job) {
    Unit& unit = *job.unit;
    const Command& command = job.command;
    DeviceAnswer answer;
    switch (command.type) {
      case devicepb::READ_PROPERTY:
        answer.status = ReadProperties(unit, command.properties, command.deadline, answer.payload);
        break;
      case devicepb::WRITE_PROPERTY: {
        std::vector<std::string> written;
        for (const auto& [id, value] : command.values.fields()) {
          const ModbusProperty* property = unit.settings->FindProperty(id);
          if (property == nullptr) {
            answer.status =
                ErrorStatus(ErrorCode::PROPERTY_UNDEFINED, absl::StrCat("no property '", id, "'"));
            break;
          }
          const double number =
              value.has_bool_value() ? (value.bool_value() ? 1 : 0) : value.number_value();
          answer.status = Write(unit, property->location, number, command.deadline);
          if (!answer.status.ok()) break;
          written.push_back(id);
        }
        // The answer is what the device holds now, read back.
        if (answer.status.ok()) {
          answer.status = ReadProperties(unit, written, command.deadline, answer.payload);
        }
        break;
      }
      case devicepb::INVOKE_FUNCTION: {
        const ModbusFunction* function = unit.settings->FindFunction(command.function_id);
        if (function == nullptr) {
          answer.status = ErrorStatus(ErrorCode::FUNCTION_UNDEFINED,
                                      absl::StrCat("no function '", command.function_id, "'"));
          break;
        }
        for (const ModbusWrite& write : function->writes) {
          answer.status = Write(unit, write.location, write.value, command.deadline);
          if (!answer.status.ok()) break;
        }
        if (answer.status.ok() && !function->outputs.empty()) {
          answer.status = ReadProperties(unit, function->outputs, command.deadline, answer.payload);
        }
        break;
      }
      default:
        answer.status = ErrorStatus(ErrorCode::UNSUPPORTED_MESSAGE, "unsupported command");
    }
    if (!answer.status.ok()) answer.payload.Clear();
    Answer(job, std::move(answer));
  }

  void Answer(Job& job, absl::Status status) { Answer(job, DeviceAnswer{std::move(status), {}}); }
  void Answer(Job& job, DeviceAnswer answer) {
    {
      MutexLock lock(mu_);
      if (running_ == job.command.message_id) running_.clear();
      if (forgotten_.erase(job.command.message_id) > 0) return;
    }
    std::move(job.on_answer)(std::move(answer));
  }

  // Reads every property of `unit`; reports what changed (and everything every
  // report_every_polls polls). An offline unit is probed the same way.
  void Poll(Unit& unit) {
    const ModbusDeviceSettings& settings = *unit.settings;
    const auto interval =
        std::chrono::milliseconds(settings.poll_interval_ms > 0 ? settings.poll_interval_ms : 1000);
    const Clock::time_point due = unit.next_poll;
    metrics_.polls().Increment();
    std::vector<std::string> ids;
    for (const ModbusProperty& property : settings.properties) ids.push_back(property.id);
    google::protobuf::Struct values;
    const absl::Status read = ReadProperties(
        unit, ids, Clock::now() + std::chrono::milliseconds(settings.timeout_ms), values);
    if (!connected_) return;  // the connection dropped; Connect schedules the next poll
    // On the interval's grid, so a 1 s poll is one poll a second however long each takes;
    // polls missed while the endpoint was busy are skipped, not made up in a burst. Online
    // units without polling are read only when asked.
    Clock::time_point next = due + interval;
    if (next <= Clock::now()) next = Clock::now() + interval;
    unit.next_poll =
        unit.online.load() && settings.poll_interval_ms == 0 ? Clock::time_point::max() : next;
    if (!read.ok()) return;
    const bool everything =
        settings.report_every_polls > 0 && ++unit.polls_since_report >= settings.report_every_polls;
    google::protobuf::Struct report;
    for (const auto& [id, value] : values.fields()) {
      const double number = value.has_bool_value() ? value.bool_value() : value.number_value();
      auto [it, inserted] = unit.last_values.try_emplace(id, number);
      if (inserted || it->second != number || everything) {
        it->second = number;
        (*report.mutable_fields())[id] = value;
      }
    }
    if (everything) unit.polls_since_report = 0;
    if (!report.fields().empty()) listener_->OnPropertyReport(unit.index, std::move(report));
  }

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

class ModbusDriver : public Driver {
 public:
  ModbusDriver(const ModbusSection& section, prometheus::Registry& registry)
      : section_(section), metrics_(registry) {}
  ~ModbusDriver() override { Stop(); }

  absl::string_view name() const override { return "modbus"; }

  absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                         std::shared_ptr<const ThingModel> model) override {
    auto settings = std::static_pointer_cast<const ModbusDeviceSettings>(config.settings);
    auto unit = std::make_unique<Unit>();
    unit->index = index;
    unit->settings = settings;
    unit->model = std::move(model);
    std::unique_ptr<Endpoint>& endpoint = endpoints_[settings->endpoint()];
    if (endpoint == nullptr) {
      endpoint = std::make_unique<Endpoint>(settings->host, settings->port, section_, metrics_);
    }
    endpoint->Add(unit.get());
    units_[index] = {std::move(unit), endpoint.get()};
    return absl::OkStatus();
  }

  absl::Status Start(DeviceListener* listener) override {
    for (auto& [name, endpoint] : endpoints_) endpoint->Start(listener);
    started_ = true;
    return absl::OkStatus();
  }

  void Stop() override {
    if (!started_) return;
    started_ = false;
    for (auto& [name, endpoint] : endpoints_) endpoint->Stop();
  }

  void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override {
    auto it = units_.find(device);
    if (it == units_.end()) {
      std::move(on_dispatched)(ErrorStatus(ErrorCode::DEVICE_NOT_FOUND, "not a modbus device"));
      return;
    }
    it->second.endpoint->Execute(*it->second.unit, std::move(command), std::move(on_dispatched),
                                 std::move(on_answer));
  }

  void Forget(DeviceIndex device, const std::string& message_id) override {
    auto it = units_.find(device);
    if (it != units_.end()) it->second.endpoint->Forget(message_id);
  }

 private:
  struct Placed {
    std::unique_ptr<Unit> unit;
    Endpoint* endpoint = nullptr;
  };

  const ModbusSection section_;
  ModbusMetrics metrics_;
  std::map<std::string, std::unique_ptr<Endpoint>> endpoints_;
  absl::flat_hash_map<DeviceIndex, Placed> units_;  // fixed before Start
  bool started_ = false;
};

class ModbusDriverFactory : public DriverFactory {
 public:
  absl::string_view name() const override { return "modbus"; }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseSection(
      const YAML::Node& section, const NodeLocator& locate) const override {
    return ParseModbusSection(section, locate);
  }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel& model, const DriverSettings* section,
      absl::string_view where, const NodeLocator& locate) const override {
    return ParseModbusDevice(settings, model, where, locate);
  }

  absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext& context,
                                                 const DriverSettings* section) const override {
    static const ModbusSection kDefaults;
    return std::make_unique<ModbusDriver>(
        section != nullptr ? static_cast<const ModbusSection&>(*section) : kDefaults,
        context.metrics);
  }
};

}  // namespace

std::unique_ptr<DriverFactory> MakeModbusDriverFactory() {
  return std::make_unique<ModbusDriverFactory>();
}

}  // namespace nb::device
