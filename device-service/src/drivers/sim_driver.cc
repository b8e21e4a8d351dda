#include "device-service/src/drivers/sim_driver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <list>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "common/status.h"
#include "device-service/src/device_registry.h"
#include "device-service/src/drivers/sim_settings.h"

namespace nb::device {
namespace {

namespace asio = boost::asio;
using google::protobuf::Struct;
using google::protobuf::Value;
using northbound::common::v1::ErrorCode;

// How far behind its schedule a periodic tick may fall and still be made up.
constexpr std::chrono::seconds kMaxCatchUp{1};

double Midpoint(const devicepb::DataSpec& spec) {
  if (spec.has_min() && spec.has_max()) return (spec.min() + spec.max()) / 2;
  if (spec.has_min()) return spec.min();
  if (spec.has_max()) return std::min(0.0, spec.max());
  return 0;
}

bool IsIntegral(devicepb::DataType type) {
  return type == devicepb::INT || type == devicepb::LONG || type == devicepb::DATE;
}

Value DefaultValue(const devicepb::DataSpec& spec) {
  Value value;
  switch (spec.type()) {
    case devicepb::BOOL:
      value.set_bool_value(false);
      break;
    case devicepb::STRING:
      value.set_string_value("");
      break;
    case devicepb::ENUM:
      value.set_string_value(spec.enum_values_size() > 0 ? spec.enum_values(0) : "");
      break;
    case devicepb::DATE:
      value.set_number_value(static_cast<double>(NowMs()));
      break;
    default:
      value.set_number_value(IsIntegral(spec.type()) ? std::round(Midpoint(spec)) : Midpoint(spec));
  }
  return value;
}

}  // namespace

// One simulated device. All state is touched only on `strand_`.
class SimDriver::SimDevice : public std::enable_shared_from_this<SimDevice> {
 public:
  SimDevice(asio::io_context& io, DeviceIndex index, std::shared_ptr<const ThingModel> model,
            SimSettings settings)
      : strand_(asio::make_strand(io)),
        index_(index),
        model_(std::move(model)),
        settings_(std::move(settings)),
        report_timer_(strand_),
        event_timer_(strand_),
        flap_timer_(strand_),
        random_(static_cast<unsigned>(index) * 7919u + 17u) {
    for (const devicepb::PropertyDef& property : model_->product().thing_model().properties()) {
      auto it = settings_.initial.fields().find(property.id());
      (*values_.mutable_fields())[property.id()] =
          it != settings_.initial.fields().end() ? it->second : DefaultValue(property.spec());
    }
  }

  void Start(DeviceListener* listener) {
    asio::post(strand_, [self = shared_from_this(), listener] {
      self->listener_ = listener;
      if (self->settings_.online) self->SetOnline(true);
      self->Schedule(self->report_timer_, self->settings_.report_interval_ms, &SimDevice::Report,
                     FirstTick::kWithinTheFirstInterval);
      self->Schedule(self->event_timer_, self->settings_.event_interval_ms, &SimDevice::RaiseEvent,
                     FirstTick::kWithinTheFirstInterval);
      self->Schedule(self->flap_timer_, self->settings_.flap_interval_ms, &SimDevice::Flap,
                     FirstTick::kAfterOneInterval);
    });
  }

  // Answers every command in flight with NO_REPLY and stops the timers, then runs `done`
  // on the strand: after that nothing of this device calls out.
  void Stop(std::function<void()> done) {
    asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
      self->stopped_ = true;
      self->report_timer_.cancel();
      self->event_timer_.cancel();
      self->flap_timer_.cancel();
      for (InFlight& command : self->in_flight_) {
        command.timer->cancel();
        if (command.forgotten) continue;
        // Marked forgotten: the cancelled timer's handler then only frees the slot.
        command.forgotten = true;
        std::move(command.on_answer)(
            {ErrorStatus(ErrorCode::NO_REPLY, "device-service is shutting down"), {}});
      }
      done();
    });
  }

  void Forget(const std::string& message_id) {
    asio::post(strand_, [self = shared_from_this(), message_id] {
      for (InFlight& command : self->in_flight_) {
        if (command.message_id == message_id) {
          command.forgotten = true;
          command.timer->cancel();
        }
      }
    });
  }

  void Execute(Command command, DispatchCallback on_dispatched, AnswerCallback on_answer) {
    asio::post(strand_, [self = shared_from_this(), command = std::move(command),
                         on_dispatched = std::move(on_dispatched),
                         on_answer = std::move(on_answer)]() mutable {
      self->DoExecute(std::move(command), std::move(on_dispatched), std::move(on_answer));
    });
  }

 private:
  struct InFlight {
    std::string message_id;
    std::unique_ptr<asio::steady_timer> timer;
    AnswerCallback on_answer;
    bool dropped = false;    // The connection went: NO_REPLY.
    bool forgotten = false;  // The caller stopped waiting: no answer at all.
  };

  void DoExecute(Command command, DispatchCallback on_dispatched, AnswerCallback on_answer) {
    if (!online_ || stopped_) {
      std::move(on_dispatched)(ErrorStatus(ErrorCode::CLIENT_OFFLINE, "device is offline"));
      return;
    }
    std::move(on_dispatched)(absl::OkStatus());
    int latency = settings_.latency_ms;
    if (command.type == devicepb::INVOKE_FUNCTION) {
      auto it = settings_.functions.find(command.function_id);
      if (it != settings_.functions.end() && it->second.latency_ms >= 0) {
        latency = it->second.latency_ms;
      }
    }
    if (latency == 0) {
      // Answers at once, on this strand, without a timer's round trip through the loop.
      std::move(on_answer)(Answer(command));
      return;
    }
    in_flight_.push_front(InFlight{
        command.message_id, std::make_unique<asio::steady_timer>(strand_), std::move(on_answer)});
    auto slot = in_flight_.begin();
    slot->timer->expires_after(std::chrono::milliseconds(latency));
    slot->timer->async_wait([self = shared_from_this(), slot,
                             command = std::move(command)](boost::system::error_code) mutable {
      AnswerCallback on_answer = std::move(slot->on_answer);
      const bool dropped = slot->dropped;
      const bool forgotten = slot->forgotten;
      self->in_flight_.erase(slot);
      if (forgotten) return;
      if (dropped) {
        std::move(on_answer)(
            {ErrorStatus(ErrorCode::NO_REPLY, "device went offline before answering"), {}});
      } else {
        std::move(on_answer)(self->Answer(command));
      }
    });
  }

  DeviceAnswer Answer(const Command& command) {
    DeviceAnswer answer;
    switch (command.type) {
      case devicepb::READ_PROPERTY:
        for (const std::string& id : command.properties) {
          (*answer.payload.mutable_fields())[id] = values_.fields().at(id);
        }
        break;
      case devicepb::WRITE_PROPERTY:
        for (const auto& [id, value] : command.values.fields()) {
          (*values_.mutable_fields())[id] = value;
          (*answer.payload.mutable_fields())[id] = value;
        }
        break;
      default:
        answer = Invoke(command);
    }
    return answer;
  }

  DeviceAnswer Invoke(const Command& command) {
    DeviceAnswer answer;
    auto behaviour = settings_.functions.find(command.function_id);
    if (behaviour != settings_.functions.end() && !behaviour->second.fail.empty()) {
      answer.status = ErrorStatus(ErrorCode::DEVICE_ERROR, behaviour->second.fail);
      return answer;
    }
    const devicepb::FunctionDef* function = model_->FindFunction(command.function_id);
    for (const devicepb::ParameterDef& output : function->outputs()) {
      auto input = command.inputs.fields().find(output.id());
      (*answer.payload.mutable_fields())[output.id()] =
          input != command.inputs.fields().end() ? input->second : DefaultValue(output.spec());
    }
    return answer;
  }

  void DropInFlight() {
    // The connection is gone: every command waiting for an answer gets NO_REPLY now.
    for (InFlight& in_flight : in_flight_) {
      in_flight.dropped = true;
      in_flight.timer->cancel();
    }
  }

  void SetOnline(bool online) {
    online_ = online;
    if (!online) DropInFlight();
    listener_->OnConnectionChanged(index_, online);
  }

  using Tick = void (SimDevice::*)();
  // kWithinTheFirstInterval: at a point of the first interval drawn per device, so that
  // devices started together do not all report in the same instant.
  enum class FirstTick { kWithinTheFirstInterval, kAfterOneInterval };

  // Runs `tick` every `interval_ms` at a steady rate: each deadline is the previous one plus
  // the interval, so a tick that runs late does not push the later ones back. After a stall
  // longer than kMaxCatchUp the device starts afresh instead of making up the missed ticks
  // in a burst.
  void Schedule(asio::steady_timer& timer, int interval_ms, Tick tick, FirstTick first) {
    if (interval_ms <= 0 || stopped_) return;
    int first_ms = interval_ms;
    if (first == FirstTick::kWithinTheFirstInterval) {
      first_ms = std::uniform_int_distribution<int>(1, interval_ms)(random_);
    }
    timer.expires_after(std::chrono::milliseconds(first_ms));
    Await(timer, std::chrono::milliseconds(interval_ms), tick);
  }

  void Await(asio::steady_timer& timer, std::chrono::milliseconds interval, Tick tick) {
    timer.async_wait(
        [self = shared_from_this(), &timer, interval, tick](boost::system::error_code error) {
          if (error || self->stopped_) return;
          ((*self).*tick)();
          const auto now = std::chrono::steady_clock::now();
          const auto next = timer.expiry() + interval;
          timer.expires_at(next + kMaxCatchUp < now ? now + interval : next);
          self->Await(timer, interval, tick);
        });
  }

  void Report() {
    if (!online_) return;
    Struct report;
    for (const devicepb::PropertyDef& property : model_->product().thing_model().properties()) {
      Value& value = (*values_.mutable_fields())[property.id()];
      // Sensor readings (read-only numbers) drift; set-points keep what was written.
      if (property.access() == devicepb::READ_ONLY && value.has_number_value() &&
          property.spec().type() != devicepb::DATE) {
        value.set_number_value(Drift(property.spec(), value.number_value()));
      }
      (*report.mutable_fields())[property.id()] = value;
    }
    listener_->OnPropertyReport(index_, std::move(report));
  }

  double Drift(const devicepb::DataSpec& spec, double value) {
    const double span = spec.has_min() && spec.has_max() ? spec.max() - spec.min() : 10.0;
    std::uniform_real_distribution<double> step(-span / 50, span / 50);
    double next = value + step(random_);
    if (spec.has_min()) next = std::max(next, spec.min());
    if (spec.has_max()) next = std::min(next, spec.max());
    if (IsIntegral(spec.type())) next = std::round(next);
    return next;
  }

  void RaiseEvent() {
    const auto& events = model_->product().thing_model().events();
    if (!online_ || events.empty()) return;
    const devicepb::EventDef& event = events[next_event_++ % events.size()];
    Struct data;
    for (const devicepb::ParameterDef& field : event.fields()) {
      auto current = values_.fields().find(field.id());
      (*data.mutable_fields())[field.id()] =
          current != values_.fields().end() ? current->second : DefaultValue(field.spec());
    }
    listener_->OnEvent(index_, event.id(), std::move(data));
  }

  void Flap() { SetOnline(!online_); }

  asio::strand<asio::io_context::executor_type> strand_;
  const DeviceIndex index_;
  const std::shared_ptr<const ThingModel> model_;
  const SimSettings settings_;
  asio::steady_timer report_timer_;
  asio::steady_timer event_timer_;
  asio::steady_timer flap_timer_;
  std::mt19937 random_;
  DeviceListener* listener_ = nullptr;
  bool online_ = false;
  bool stopped_ = false;
  size_t next_event_ = 0;
  Struct values_;
  std::list<InFlight> in_flight_;
};

SimDriver::SimDriver(asio::io_context& io) : io_(io) {}

SimDriver::~SimDriver() = default;

absl::Status SimDriver::AddDevice(DeviceIndex index, const DeviceConfig& config,
                                  std::shared_ptr<const ThingModel> model) {
  const auto* settings = dynamic_cast<const SimSettings*>(config.settings.get());
  if (settings == nullptr) {
    return absl::InternalError(
        absl::StrCat(config.location, ": device '", config.key, "' has no sim settings"));
  }
  devices_[index] = std::make_shared<SimDevice>(io_, index, std::move(model), *settings);
  return absl::OkStatus();
}

absl::Status SimDriver::Start(DeviceListener* listener) {
  for (auto& [index, device] : devices_) device->Start(listener);
  return absl::OkStatus();
}

void SimDriver::Stop() {
  if (stopped_) return;
  stopped_ = true;
  std::mutex mu;
  std::condition_variable all_stopped;
  size_t left = devices_.size();
  for (auto& [index, device] : devices_) {
    device->Stop([&] {
      std::lock_guard<std::mutex> lock(mu);
      if (--left == 0) all_stopped.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  all_stopped.wait(lock, [&] { return left == 0; });
}

void SimDriver::Forget(DeviceIndex device, const std::string& message_id) {
  auto it = devices_.find(device);
  if (it != devices_.end()) it->second->Forget(message_id);
}

void SimDriver::Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
                        AnswerCallback on_answer) {
  auto it = devices_.find(device);
  if (it == devices_.end()) {
    std::move(on_dispatched)(ErrorStatus(ErrorCode::SYSTEM_ERROR, "device not driven by sim"));
    return;
  }
  it->second->Execute(std::move(command), std::move(on_dispatched), std::move(on_answer));
}

namespace {

class SimDriverFactory : public DriverFactory {
 public:
  absl::string_view name() const override { return "sim"; }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel& model, const DriverSettings*,
      absl::string_view where, const NodeLocator&) const override {
    absl::StatusOr<SimSettings> parsed = ParseSimSettings(settings, model, where);
    if (!parsed.ok()) return parsed.status();
    return std::make_shared<const SimSettings>(*std::move(parsed));
  }

  absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext& context,
                                                 const DriverSettings*) const override {
    return std::make_unique<SimDriver>(context.io);
  }
};

}  // namespace

std::unique_ptr<DriverFactory> MakeSimDriverFactory() {
  return std::make_unique<SimDriverFactory>();
}

}  // namespace nb::device
