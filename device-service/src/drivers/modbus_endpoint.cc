#include "device-service/src/drivers/modbus_endpoint.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <string.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;

}  // namespace

ModbusEndpoint::ModbusEndpoint(std::string host, int port, const ModbusSection& section,
                               ModbusMetrics& metrics)
    : host_(std::move(host)),
      port_(port),
      name_(absl::StrCat(host_, ":", port_)),
      section_(section),
      metrics_(metrics),
      random_(std::random_device{}()) {}

ModbusEndpoint::~ModbusEndpoint() {
  if (context_ != nullptr) modbus_free(context_);
}

void ModbusEndpoint::Start(DeviceListener* listener) {
  listener_ = listener;
  thread_ = std::thread([this] { Run(); });
}

void ModbusEndpoint::Stop() {
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
  for (Job& job : left) Answer(job, ErrorStatus(ErrorCode::NO_REPLY, "device-service is stopping"));
}

void ModbusEndpoint::Execute(Unit& unit, Command command, DispatchCallback on_dispatched,
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

void ModbusEndpoint::Forget(const std::string& message_id) {
  MutexLock lock(mu_);
  // Dropped when its turn comes; a command already running finishes, unheard.
  bool known = running_ == message_id;
  for (const Job& job : queue_) known = known || job.command.message_id == message_id;
  if (known) forgotten_.insert(message_id);
}

void ModbusEndpoint::Run() {
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

bool ModbusEndpoint::Connect() {
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

void ModbusEndpoint::OnConnected() {
  log::Info("modbus endpoint connected", {{"endpoint", name_}});
  for (Unit* unit : units_) {
    unit->failures = 0;
    unit->next_poll = Clock::now();
  }
}

void ModbusEndpoint::Resync() {
  Disconnect();
  if (!Connect()) Drop("cannot reconnect");
}

void ModbusEndpoint::Drop(absl::string_view why) {
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
    Answer(job,
           ErrorStatus(ErrorCode::NO_REPLY, absl::StrCat("connection to ", name_, " lost: ", why)));
  }
  for (Unit* unit : units_) {
    SetOnline(*unit, false);
    unit->next_poll = Clock::time_point::max();
  }
}

void ModbusEndpoint::Disconnect() {
  if (!connected_) return;
  modbus_close(context_);
  connected_ = false;
  metrics_.connected().Decrement();
}

void ModbusEndpoint::SetOnline(Unit& unit, bool online) {
  if (unit.online.exchange(online) == online) return;
  if (online) unit.polls_since_report = 0, unit.last_values.clear();
  listener_->OnConnectionChanged(unit.index, online);
}

modbus::Result ModbusEndpoint::Request(Unit& unit, Clock::time_point deadline,
                                       absl::FunctionRef<int(modbus_t*)> call) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
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

bool ModbusEndpoint::Settle(Unit& unit, const Result& result) {
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

void ModbusEndpoint::Answer(Job& job, absl::Status status) {
  Answer(job, DeviceAnswer{std::move(status), {}});
}

void ModbusEndpoint::Answer(Job& job, DeviceAnswer answer) {
  {
    MutexLock lock(mu_);
    if (running_ == job.command.message_id) running_.clear();
    if (forgotten_.erase(job.command.message_id) > 0) return;
  }
  std::move(job.on_answer)(std::move(answer));
}

}  // namespace nb::device
