#include "device-service/src/drivers/mqtt_broker.h"

#include <mosquitto.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "device-service/src/drivers/alink_codec.h"

namespace nb::device {
namespace {

using Clock = std::chrono::steady_clock;
using Direction = MqttMetrics::Direction;
using Invalid = MqttMetrics::Invalid;
using Kind = MqttMetrics::Kind;
using northbound::common::v1::ErrorCode;

constexpr auto kSweepInterval = std::chrono::milliseconds(200);
constexpr int kLoopTimeoutMs = 100;
constexpr int kQos = 1;

// Execute and Forget touch only the in-flight table (under mu_) and libmosquitto's
// publish, which is thread-safe once mosquitto_threaded_set is on.
class MosquittoConnection final : public BrokerConnection {
 public:
  MosquittoConnection(BrokerSettings settings, std::string password, MqttMetrics& metrics)
      : settings_(std::move(settings)),
        password_(std::move(password)),
        metrics_(metrics),
        connected_gauge_(metrics.connected(settings_.name)),
        reconnects_(metrics.reconnects(settings_.name)),
        random_(std::random_device{}()) {}

  ~MosquittoConnection() override {
    Stop();
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  }

  void AddDevice(std::unique_ptr<MqttDevice> device) override {
    products_.insert(device->product_key);
    devices_[absl::StrCat(device->product_key, "/", device->device_key)] = device.get();
    by_index_[device->index] = device.get();
    owned_.push_back(std::move(device));
  }

  absl::Status Start(DeviceListener* listener) override {
    listener_ = listener;
    // Once per process, kept for its life: the library's global state (networking, TLS)
    // is shared by every connection.
    static std::once_flag library;
    std::call_once(library, [] { mosquitto_lib_init(); });
    mosq_ = mosquitto_new(settings_.client_id.c_str(), /*clean_session=*/true, this);
    if (mosq_ == nullptr) return absl::InternalError("mqtt: cannot create a client");
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    // Requests are small packets written back to back; Nagle's algorithm with the broker's
    // delayed ACK would hold each for tens of milliseconds.
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_threaded_set(mosq_, true);
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    if (!settings_.username.empty()) {
      mosquitto_username_pw_set(mosq_, settings_.username.c_str(),
                                password_.empty() ? nullptr : password_.c_str());
    }
    if (settings_.tls) {
      const int rc = mosquitto_tls_set(
          mosq_, settings_.ca_file.c_str(), nullptr,
          settings_.cert_file.empty() ? nullptr : settings_.cert_file.c_str(),
          settings_.key_file.empty() ? nullptr : settings_.key_file.c_str(), nullptr);
      if (rc != MOSQ_ERR_SUCCESS) {
        return absl::InvalidArgumentError(absl::StrCat(
            "mqtt broker '", settings_.name, "': TLS files refused: ", mosquitto_strerror(rc)));
      }
    }
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<MosquittoConnection*>(self)->OnConnect(rc);
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<MosquittoConnection*>(self)->OnMessage(*m);
    });
    connected_gauge_.Set(0);
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  // Ends the loop; then answers what is in flight with NO_REPLY. Nothing calls out after.
  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      if (stopping_.exchange(true)) return;
    }
    sleep_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    FailInFlight("device-service is shutting down");
  }

  void Execute(DeviceIndex index, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override {
    MqttDevice& device = *by_index_.at(index);
    if (!connected_.load()) {
      std::move(on_dispatched)(ErrorStatus(
          ErrorCode::CLIENT_OFFLINE,
          absl::StrCat("device is offline: MQTT broker '", settings_.name, "' is not connected")));
      return;
    }
    if (!device.online.load()) {
      std::move(on_dispatched)(ErrorStatus(ErrorCode::CLIENT_OFFLINE, "device is offline"));
      return;
    }
    const std::string topic = alink::RequestTopic(device.product_key, device.device_key, command);
    const std::string payload = alink::EncodeRequest(command);
    const std::string id = command.message_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_[id] = InFlight{index, std::move(command), std::move(on_answer), Clock::now()};
      metrics_.in_flight().Increment();
    }
    std::move(on_dispatched)(absl::OkStatus());
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(),
                                     static_cast<int>(payload.size()), payload.data(), kQos, false);
    if (rc == MOSQ_ERR_SUCCESS) {
      metrics_.CountMessage(Direction::kOut, Kind::kRequest);
      return;
    }
    if (std::optional<InFlight> lost = Take(id)) {
      std::move(lost->on_answer)(
          {ErrorStatus(ErrorCode::NO_REPLY,
                       absl::StrCat("MQTT publish failed: ", mosquitto_strerror(rc))),
           {}});
    }
  }

  void Forget(const std::string& message_id) override { Take(message_id); }

 private:
  struct InFlight {
    DeviceIndex device = 0;
    Command command;
    AnswerCallback on_answer;
    Clock::time_point sent;
  };

  std::optional<InFlight> Take(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return std::nullopt;
    InFlight taken = std::move(it->second);
    in_flight_.erase(it);
    metrics_.in_flight().Decrement();
    return taken;
  }

  void FailInFlight(absl::string_view why) {
    absl::flat_hash_map<std::string, InFlight> lost;
    {
      std::lock_guard<std::mutex> lock(mu_);
      lost.swap(in_flight_);
      metrics_.in_flight().Decrement(static_cast<double>(lost.size()));
    }
    for (auto& [id, command] : lost) {
      std::move(command.on_answer)({ErrorStatus(ErrorCode::NO_REPLY, why), {}});
    }
  }

  // The loop thread: connect, serve, and after a loss wait a jittered, growing delay.
  void Run() {
    auto backoff = std::chrono::milliseconds(settings_.reconnect_min_ms);
    bool first = true;
    while (!stopping_.load()) {
      if (!first) reconnects_.Increment();
      first = false;
      int rc =
          mosquitto_connect(mosq_, settings_.host.c_str(), settings_.port, settings_.keepalive_s);
      if (rc == MOSQ_ERR_SUCCESS) {
        auto next_sweep = Clock::now();
        while (!stopping_.load()) {
          rc = mosquitto_loop(mosq_, kLoopTimeoutMs, 1);
          if (rc != MOSQ_ERR_SUCCESS) break;
          if (Clock::now() >= next_sweep) {
            Sweep();
            next_sweep = Clock::now() + kSweepInterval;
          }
        }
        if (connected_ever_) backoff = std::chrono::milliseconds(settings_.reconnect_min_ms);
        connected_ever_ = false;
      }
      if (stopping_.load()) {
        // A clean goodbye, written by one more turn of the loop.
        if (mosquitto_disconnect(mosq_) == MOSQ_ERR_SUCCESS)
          mosquitto_loop(mosq_, kLoopTimeoutMs, 1);
        break;
      }
      OnConnectionLost(rc);
      SleepBackoff(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(settings_.reconnect_max_ms));
    }
    OnConnectionLost(MOSQ_ERR_SUCCESS);
  }

  void SleepBackoff(std::chrono::milliseconds backoff) {
    // Full jitter in [backoff/2, backoff]: a fleet of device-services does not reconnect
    // in step after a broker restart.
    std::uniform_int_distribution<int64_t> jitter(backoff.count() / 2, backoff.count());
    const auto delay = std::chrono::milliseconds(jitter(random_));
    std::unique_lock<std::mutex> lock(sleep_mu_);
    sleep_cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
  }

  void OnConnect(int rc) {
    if (rc != 0) {
      log::Error("mqtt broker refused the connection", {{"broker", settings_.name},
                                                        {"reason", mosquitto_connack_string(rc)},
                                                        {"username", settings_.username}});
      return;  // The broker closes; the loop retries after a delay.
    }
    connected_ever_ = true;
    for (const std::string& product : products_) {
      for (const std::string& filter : alink::SubscriptionFilters(product)) {
        mosquitto_subscribe(mosq_, nullptr, filter.c_str(), kQos);
      }
    }
    connected_.store(true);
    connected_gauge_.Set(1);
    log::Info("mqtt broker connected",
              {{"broker", settings_.name},
               {"address", absl::StrCat(settings_.host, ":", settings_.port)}});
  }

  void OnConnectionLost(int rc) {
    const bool was_connected = connected_.exchange(false);
    connected_gauge_.Set(0);
    if (was_connected && stopping_.load()) {
      log::Info("mqtt broker disconnected", {{"broker", settings_.name}});
    } else if (was_connected) {
      log::Error("mqtt broker connection lost",
                 {{"broker", settings_.name}, {"reason", mosquitto_strerror(rc)}});
    } else if (rc != MOSQ_ERR_SUCCESS && !stopping_.load()) {
      log::Error("mqtt broker unreachable",
                 {{"broker", settings_.name},
                  {"address", absl::StrCat(settings_.host, ":", settings_.port)},
                  {"reason", mosquitto_strerror(rc)}});
    }
    for (const auto& device : owned_) SetOnline(*device, false);
    FailInFlight("the MQTT broker connection dropped before the device answered");
  }

  void SetOnline(MqttDevice& device, bool online) {
    if (device.online.exchange(online) == online) return;
    listener_->OnConnectionChanged(device.index, online);
  }

  void Sweep() {
    const auto now = Clock::now();
    for (const auto& device : owned_) {
      if (device->offline_after.count() > 0 && device->online.load() &&
          now - device->last_seen > device->offline_after) {
        SetOnline(*device, false);
      }
    }
    // Commands past their deadline: nobody waits; an async caller learns TIME_OUT.
    std::vector<InFlight> expired;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = in_flight_.begin(); it != in_flight_.end();) {
        if (it->second.command.deadline < now) {
          expired.push_back(std::move(it->second));
          in_flight_.erase(it++);
          metrics_.in_flight().Decrement();
        } else {
          ++it;
        }
      }
    }
    for (InFlight& command : expired) {
      std::move(command.on_answer)(
          {ErrorStatus(ErrorCode::TIME_OUT, "device did not answer before the deadline"), {}});
    }
  }

  void OnMessage(const mosquitto_message& message) {
    const absl::string_view topic(message.topic);
    const absl::string_view payload(static_cast<const char*>(message.payload),
                                    static_cast<size_t>(std::max(message.payloadlen, 0)));
    std::optional<alink::DeviceTopic> parsed = alink::ParseTopic(topic);
    if (!parsed) return metrics_.CountInvalid(Invalid::kTopic);
    if (parsed->kind == alink::TopicKind::kOwnRequest || parsed->kind == alink::TopicKind::kOther) {
      return metrics_.CountMessage(Direction::kIn,
                                   Kind::kOwn);  // Our own requests and acks echo back.
    }
    auto found = devices_.find(parsed->device_path);
    if (found == devices_.end()) return metrics_.CountInvalid(Invalid::kUnknownDevice);
    MqttDevice& device = *found->second;
    if (payload.size() > alink::kMaxPayloadBytes) {
      log::Info("mqtt device message dropped", {{"device", device.device_key},
                                                {"reason", "payload over the size limit"},
                                                {"bytes", std::to_string(payload.size())}});
      return metrics_.CountInvalid(Invalid::kTooLarge);
    }
    if (parsed->kind == alink::TopicKind::kStatus) return OnStatus(device, payload);
    // Anything else from the device shows it is alive.
    device.last_seen = Clock::now();
    if (!device.said_offline) SetOnline(device, true);
    switch (parsed->kind) {
      case alink::TopicKind::kReply:
        return OnReply(device, payload);
      case alink::TopicKind::kPropertyPost:
        return OnPost(device, topic, payload, "");
      default:
        return OnPost(device, topic, payload, parsed->name);
    }
  }

  void OnStatus(MqttDevice& device, absl::string_view payload) {
    metrics_.CountMessage(Direction::kIn, Kind::kStatus);
    if (payload.empty()) return;  // A cleared retained status says nothing.
    absl::StatusOr<alink::DeviceStatus> status = alink::DecodeStatus(payload);
    if (!status.ok()) return Drop(device, Invalid::kJson, status.status().message());
    device.said_offline = *status == alink::DeviceStatus::kOffline;
    device.last_seen = Clock::now();
    SetOnline(device, !device.said_offline);
  }

  void OnReply(MqttDevice& device, absl::string_view payload) {
    metrics_.CountMessage(Direction::kIn, Kind::kReply);
    absl::StatusOr<alink::Reply> reply = alink::DecodeReply(payload);
    if (!reply.ok()) return Drop(device, Invalid::kJson, reply.status().message());
    std::optional<InFlight> command;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = in_flight_.find(reply->id);
      if (it != in_flight_.end() && it->second.device == device.index) {
        command = std::move(it->second);
        in_flight_.erase(it);
        metrics_.in_flight().Decrement();
      }
    }
    if (!command) return metrics_.CountUnmatched();
    metrics_.ObserveLatency(std::chrono::duration<double>(Clock::now() - command->sent).count());
    DeviceAnswer answer = alink::AnswerFromReply(*device.model, command->command, *reply);
    if (!answer.status.ok() && reply->code == 200) metrics_.CountInvalid(Invalid::kModel);
    std::move(command->on_answer)(std::move(answer));
  }

  // A property report (`event_id` empty) or an event.
  void OnPost(MqttDevice& device, absl::string_view topic, absl::string_view payload,
              absl::string_view event_id) {
    metrics_.CountMessage(Direction::kIn, event_id.empty() ? Kind::kReport : Kind::kEvent);
    absl::StatusOr<alink::Post> post = alink::DecodePost(payload);
    if (!post.ok()) return Drop(device, Invalid::kJson, post.status().message());
    if (post->ack) {
      const std::string ack_topic = absl::StrCat(topic, "_reply");
      const std::string ack = alink::EncodePostAck(*post);
      if (mosquitto_publish(mosq_, nullptr, ack_topic.c_str(), static_cast<int>(ack.size()),
                            ack.data(), 0, false) == MOSQ_ERR_SUCCESS) {
        metrics_.CountMessage(Direction::kOut, Kind::kAck);
      }
    }
    if (event_id.empty()) {
      alink::CheckedReport report = alink::CheckReport(*device.model, std::move(post->params));
      if (!report.problems.empty()) Drop(device, Invalid::kModel, report.problems.front());
      if (!report.values.fields().empty()) {
        listener_->OnPropertyReport(device.index, std::move(report.values));
      }
      return;
    }
    absl::StatusOr<google::protobuf::Struct> fields =
        alink::CheckEvent(*device.model, event_id, post->params);
    if (!fields.ok()) return Drop(device, Invalid::kModel, fields.status().message());
    listener_->OnEvent(device.index, std::string(event_id), *std::move(fields));
  }

  void Drop(const MqttDevice& device, Invalid reason, absl::string_view problem) {
    metrics_.CountInvalid(reason);
    log::Info("mqtt device message dropped", {{"product", device.product_key},
                                              {"device", device.device_key},
                                              {"reason", std::string(problem.substr(0, 200))}});
  }

  const BrokerSettings settings_;
  const std::string password_;
  MqttMetrics& metrics_;
  prometheus::Gauge& connected_gauge_;
  prometheus::Counter& reconnects_;
  DeviceListener* listener_ = nullptr;
  mosquitto* mosq_ = nullptr;
  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  std::mt19937_64 random_;
  bool connected_ever_ = false;  // Loop thread: this connection got a CONNACK.

  // Fixed after start-up.
  std::vector<std::unique_ptr<MqttDevice>> owned_;
  absl::flat_hash_map<std::string, MqttDevice*> devices_;  // "product/device"
  absl::flat_hash_map<DeviceIndex, MqttDevice*> by_index_;
  std::set<std::string> products_;

  std::mutex mu_;
  absl::flat_hash_map<std::string, InFlight> in_flight_;  // By message id.
};

}  // namespace

std::unique_ptr<BrokerConnection> MakeBrokerConnection(BrokerSettings settings,
                                                       std::string password, MqttMetrics& metrics) {
  return std::make_unique<MosquittoConnection>(std::move(settings), std::move(password), metrics);
}

}  // namespace nb::device
