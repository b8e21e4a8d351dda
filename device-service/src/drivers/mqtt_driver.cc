#include "device-service/src/drivers/mqtt_driver.h"

#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status.h"
#include "device-service/src/drivers/alink_codec.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace nb::device {
namespace {

using Clock = std::chrono::steady_clock;
using northbound::common::v1::ErrorCode;

constexpr auto kSweepInterval = std::chrono::milliseconds(200);
constexpr int kLoopTimeoutMs = 100;
constexpr int kQos = 1;

struct BrokerSettings {
  std::string name;
  std::string host;
  int port = 1883;
  bool tls = false;
  std::string client_id = "northbound-device-service";
  std::string username;
  std::string password_file;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  int keepalive_s = 30;
  int reconnect_min_ms = 500;
  int reconnect_max_ms = 30'000;
};

struct MqttSection : DriverSettings {
  std::vector<BrokerSettings> brokers;
};

struct MqttDeviceSettings : DriverSettings {
  std::string broker;
  int report_interval_ms = 0;
  int offline_after_ms = 0;
};

// The driver's metric families, created once.
class MqttMetrics {
 public:
  explicit MqttMetrics(prometheus::Registry& registry)
      : messages_(prometheus::BuildCounter()
                      .Name(MetricName("mqtt", "messages", "", true))
                      .Help("MQTT messages by direction and kind (request, reply, report, event, "
                            "status, ack, own).")
                      .Register(registry)),
        invalid_(prometheus::BuildCounter()
                     .Name(MetricName("mqtt", "invalid_messages", "", true))
                     .Help("Device messages dropped: not JSON, over the size limit, unknown "
                           "device, or values the thing model refuses.")
                     .Register(registry)),
        unmatched_(prometheus::BuildCounter()
                       .Name(MetricName("mqtt", "unmatched_replies", "", true))
                       .Help("Replies no command waits for (late, repeated or unknown id).")
                       .Register(registry)
                       .Add({})),
        latency_(prometheus::BuildHistogram()
                     .Name(MetricName("mqtt", "reply_latency", "seconds"))
                     .Help("From publishing a request to its device's reply.")
                     .Register(registry)
                     .Add({}, LatencyBuckets())),
        connected_(prometheus::BuildGauge()
                       .Name(MetricName("mqtt", "broker_connected"))
                       .Help("1 while the broker connection is up.")
                       .Register(registry)),
        in_flight_(prometheus::BuildGauge()
                       .Name(MetricName("mqtt", "commands_in_flight"))
                       .Help("Commands published and waiting for their device's reply.")
                       .Register(registry)
                       .Add({})),
        reconnects_(prometheus::BuildCounter()
                        .Name(MetricName("mqtt", "reconnects", "", true))
                        .Help("Connection attempts after the first, by broker.")
                        .Register(registry)) {
    for (const char* direction : {"in", "out"}) {
      for (const char* kind : {"request", "reply", "report", "event", "status", "ack", "own"}) {
        messages_by_[std::string(direction) + kind] = &messages_.Add({{"direction", direction}, {"kind", kind}});
      }
    }
    for (const char* reason : {"json", "too_large", "unknown_device", "model", "topic"}) {
      invalid_by_[reason] = &invalid_.Add({{"reason", reason}});
    }
  }

  void CountMessage(absl::string_view direction, absl::string_view kind) {
    messages_by_.at(absl::StrCat(direction, kind))->Increment();
  }
  void CountInvalid(absl::string_view reason) { invalid_by_.at(std::string(reason))->Increment(); }
  void CountUnmatched() { unmatched_.Increment(); }
  void ObserveLatency(double seconds) { latency_.Observe(seconds); }
  prometheus::Gauge& connected(const std::string& broker) {
    return connected_.Add({{"broker", broker}});
  }
  prometheus::Gauge& in_flight() { return in_flight_; }
  prometheus::Counter& reconnects(const std::string& broker) {
    return reconnects_.Add({{"broker", broker}});
  }

 private:
  prometheus::Family<prometheus::Counter>& messages_;
  prometheus::Family<prometheus::Counter>& invalid_;
  prometheus::Counter& unmatched_;
  prometheus::Histogram& latency_;
  prometheus::Family<prometheus::Gauge>& connected_;
  prometheus::Gauge& in_flight_;
  prometheus::Family<prometheus::Counter>& reconnects_;
  absl::flat_hash_map<std::string, prometheus::Counter*> messages_by_;
  absl::flat_hash_map<std::string, prometheus::Counter*> invalid_by_;
};

// One device behind a broker. Immutable after start-up but for the state that only the
// broker's loop thread writes (`online` is read by Execute from any thread).
struct MqttDevice {
  DeviceIndex index = 0;
  std::string product_key;
  std::string device_key;
  std::shared_ptr<const ThingModel> model;
  std::chrono::milliseconds offline_after{0};
  std::atomic<bool> online{false};
  // Loop thread only.
  Clock::time_point last_seen;
  bool said_offline = false;  // Its last status was "offline" (or the Last Will).
};

// One MQTT client connection and the devices behind it.
//
// Threads: a loop thread of its own runs libmosquitto (connect, read, write, keep-alive),
// every incoming message, the sweeps and the listener calls. Execute and Forget run on any
// thread: they touch only the in-flight table (under mu_) and libmosquitto's publish,
// which is thread-safe once mosquitto_threaded_set is on.
class BrokerConnection {
 public:
  BrokerConnection(BrokerSettings settings, std::string password, MqttMetrics& metrics)
      : settings_(std::move(settings)),
        password_(std::move(password)),
        metrics_(metrics),
        connected_gauge_(metrics.connected(settings_.name)),
        reconnects_(metrics.reconnects(settings_.name)),
        random_(std::random_device{}()) {}

  ~BrokerConnection() {
    Stop();
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  }

  void AddDevice(std::unique_ptr<MqttDevice> device) {
    products_.insert(device->product_key);
    devices_[absl::StrCat(device->product_key, "/", device->device_key)] = device.get();
    by_index_[device->index] = device.get();
    owned_.push_back(std::move(device));
  }

  absl::Status Start(DeviceListener* listener) {
    listener_ = listener;
    mosq_ = mosquitto_new(settings_.client_id.c_str(), /*clean_session=*/true, this);
    if (mosq_ == nullptr) return absl::InternalError("mqtt: cannot create a client");
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
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
        return absl::InvalidArgumentError(absl::StrCat("mqtt broker '", settings_.name,
                                                       "': TLS files refused: ",
                                                       mosquitto_strerror(rc)));
      }
    }
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<BrokerConnection*>(self)->OnConnect(rc);
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<BrokerConnection*>(self)->OnMessage(*m);
    });
    connected_gauge_.Set(0);
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  // Ends the loop; then answers what is in flight with NO_REPLY. Nothing calls out after.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      if (stopping_.exchange(true)) return;
    }
    sleep_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    FailInFlight("device-service is shutting down");
  }

  void Execute(DeviceIndex index, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) {
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
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), kQos, false);
    if (rc == MOSQ_ERR_SUCCESS) {
      metrics_.CountMessage("out", "request");
      return;
    }
    if (std::optional<InFlight> lost = Take(id)) {
      std::move(lost->on_answer)(
          {ErrorStatus(ErrorCode::NO_REPLY,
                       absl::StrCat("MQTT publish failed: ", mosquitto_strerror(rc))),
           {}});
    }
  }

  void Forget(const std::string& message_id) { Take(message_id); }

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
      int rc = mosquitto_connect(mosq_, settings_.host.c_str(), settings_.port,
                                 settings_.keepalive_s);
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
        if (mosquitto_disconnect(mosq_) == MOSQ_ERR_SUCCESS) mosquitto_loop(mosq_, kLoopTimeoutMs, 1);
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
      log::Error("mqtt broker refused the connection",
                 {{"broker", settings_.name},
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
    log::Info("mqtt broker connected", {{"broker", settings_.name},
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
      log::Error("mqtt broker unreachable", {{"broker", settings_.name},
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
    if (!parsed) return metrics_.CountInvalid("topic");
    if (parsed->kind == alink::TopicKind::kOwnRequest || parsed->kind == alink::TopicKind::kOther) {
      return metrics_.CountMessage("in", "own");  // Our own requests and acks echo back.
    }
    auto found = devices_.find(absl::StrCat(parsed->product_key, "/", parsed->device_key));
    if (found == devices_.end()) return metrics_.CountInvalid("unknown_device");
    MqttDevice& device = *found->second;
    if (payload.size() > alink::kMaxPayloadBytes) {
      log::Info("mqtt device message dropped",
                {{"device", device.device_key}, {"reason", "payload over the size limit"},
                 {"bytes", std::to_string(payload.size())}});
      return metrics_.CountInvalid("too_large");
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
    metrics_.CountMessage("in", "status");
    if (payload.empty()) return;  // A cleared retained status says nothing.
    absl::StatusOr<alink::DeviceStatus> status = alink::DecodeStatus(payload);
    if (!status.ok()) return Drop(device, "json", status.status().message());
    device.said_offline = *status == alink::DeviceStatus::kOffline;
    device.last_seen = Clock::now();
    SetOnline(device, !device.said_offline);
  }

  void OnReply(MqttDevice& device, absl::string_view payload) {
    metrics_.CountMessage("in", "reply");
    absl::StatusOr<alink::Reply> reply = alink::DecodeReply(payload);
    if (!reply.ok()) return Drop(device, "json", reply.status().message());
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
    if (!answer.status.ok() && reply->code == 200) metrics_.CountInvalid("model");
    std::move(command->on_answer)(std::move(answer));
  }

  // A property report (`event_id` empty) or an event.
  void OnPost(MqttDevice& device, absl::string_view topic, absl::string_view payload,
              const std::string& event_id) {
    metrics_.CountMessage("in", event_id.empty() ? "report" : "event");
    absl::StatusOr<alink::Post> post = alink::DecodePost(payload);
    if (!post.ok()) return Drop(device, "json", post.status().message());
    if (post->ack) {
      const std::string ack_topic = absl::StrCat(topic, "_reply");
      const std::string ack = alink::EncodePostAck(*post);
      if (mosquitto_publish(mosq_, nullptr, ack_topic.c_str(), static_cast<int>(ack.size()),
                            ack.data(), 0, false) == MOSQ_ERR_SUCCESS) {
        metrics_.CountMessage("out", "ack");
      }
    }
    if (event_id.empty()) {
      alink::CheckedReport report = alink::CheckReport(*device.model, post->params);
      if (!report.problems.empty()) Drop(device, "model", report.problems.front());
      if (!report.values.fields().empty()) {
        listener_->OnPropertyReport(device.index, std::move(report.values));
      }
      return;
    }
    absl::StatusOr<google::protobuf::Struct> fields =
        alink::CheckEvent(*device.model, event_id, post->params);
    if (!fields.ok()) return Drop(device, "model", fields.status().message());
    listener_->OnEvent(device.index, event_id, *std::move(fields));
  }

  void Drop(const MqttDevice& device, absl::string_view reason, absl::string_view problem) {
    metrics_.CountInvalid(reason);
    log::Info("mqtt device message dropped",
              {{"product", device.product_key},
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

class MqttDriver : public Driver {
 public:
  MqttDriver(const MqttSection& section, prometheus::Registry& registry) : metrics_(registry) {
    for (const BrokerSettings& broker : section.brokers) {
      std::string password;
      if (!broker.password_file.empty()) {
        std::ifstream in(broker.password_file);
        std::getline(in, password);
        password = std::string(absl::StripTrailingAsciiWhitespace(password));
      }
      brokers_[broker.name] = std::make_unique<BrokerConnection>(broker, password, metrics_);
    }
  }
  ~MqttDriver() override { Stop(); }

  absl::string_view name() const override { return "mqtt"; }

  absl::Status AddDevice(DeviceIndex index, const DeviceConfig& config,
                         std::shared_ptr<const ThingModel> model) override {
    const auto& settings = static_cast<const MqttDeviceSettings&>(*config.settings);
    auto device = std::make_unique<MqttDevice>();
    device->index = index;
    device->product_key = config.product_key;
    device->device_key = config.key;
    device->model = std::move(model);
    device->offline_after = std::chrono::milliseconds(settings.offline_after_ms);
    BrokerConnection& broker = *brokers_.at(settings.broker);
    by_index_[index] = &broker;
    broker.AddDevice(std::move(device));
    return absl::OkStatus();
  }

  absl::Status Start(DeviceListener* listener) override {
    mosquitto_lib_init();
    started_ = true;
    for (auto& [name, broker] : brokers_) {
      if (absl::Status s = broker->Start(listener); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  void Stop() override {
    for (auto& [name, broker] : brokers_) broker->Stop();
    if (started_) {
      brokers_.clear();
      mosquitto_lib_cleanup();
      started_ = false;
    }
  }

  void Execute(DeviceIndex device, Command command, DispatchCallback on_dispatched,
               AnswerCallback on_answer) override {
    by_index_.at(device)->Execute(device, std::move(command), std::move(on_dispatched),
                                  std::move(on_answer));
  }

  void Forget(DeviceIndex device, const std::string& message_id) override {
    by_index_.at(device)->Forget(message_id);
  }

 private:
  MqttMetrics metrics_;
  std::map<std::string, std::unique_ptr<BrokerConnection>> brokers_;
  absl::flat_hash_map<DeviceIndex, BrokerConnection*> by_index_;
  bool started_ = false;
};

// --- Settings -------------------------------------------------------------------------

absl::Status SettingError(const NodeLocator& locate, const YAML::Node& node,
                          absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(locate(node), ": ", problem));
}

absl::StatusOr<int> IntSetting(const YAML::Node& map, const char* field, int fallback, int min,
                               int max, absl::string_view what, const NodeLocator& locate) {
  const YAML::Node node = map[field];
  if (!node) return fallback;
  int value = 0;
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value) || value < min || value > max) {
    return SettingError(locate, node,
                        absl::StrCat(what, ": ", field, " must be a whole number ", min, "..", max));
  }
  return value;
}

absl::Status CheckKnownFields(const YAML::Node& map, std::initializer_list<absl::string_view> known,
                              absl::string_view what, const NodeLocator& locate) {
  for (const auto& item : map) {
    const std::string field = item.first.as<std::string>();
    if (std::find(known.begin(), known.end(), field) == known.end()) {
      return SettingError(locate, item.first, absl::StrCat(what, ": unknown setting '", field, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BrokerSettings> ParseBroker(const YAML::Node& node, size_t position,
                                           const NodeLocator& locate) {
  if (!node.IsMap()) return SettingError(locate, node, "mqtt: each broker must be a mapping");
  BrokerSettings broker;
  broker.name = node["name"] ? node["name"].as<std::string>() : (position == 0 ? "default" : "");
  if (broker.name.empty()) return SettingError(locate, node, "mqtt: a broker needs a name");
  const std::string what = absl::StrCat("mqtt broker '", broker.name, "'");
  if (absl::Status s = CheckKnownFields(node, {"name", "uri", "client_id", "username",
                                               "password_file", "ca_file", "cert_file",
                                               "key_file", "keepalive_s", "reconnect_min_ms",
                                               "reconnect_max_ms"},
                                        what, locate);
      !s.ok()) {
    return s;
  }
  if (!node["uri"]) return SettingError(locate, node, absl::StrCat(what, ": uri is required"));
  absl::string_view uri = node["uri"].Scalar();
  if (absl::ConsumePrefix(&uri, "mqtts://")) {
    broker.tls = true;
    broker.port = 8883;
  } else if (!absl::ConsumePrefix(&uri, "mqtt://")) {
    return SettingError(locate, node["uri"],
                        absl::StrCat(what, ": uri must start with mqtt:// or mqtts://"));
  }
  const size_t colon = uri.rfind(':');
  broker.host = std::string(uri.substr(0, colon));
  if (colon != absl::string_view::npos &&
      (!absl::SimpleAtoi(uri.substr(colon + 1), &broker.port) || broker.port < 1 ||
       broker.port > 65535)) {
    return SettingError(locate, node["uri"], absl::StrCat(what, ": bad port in uri"));
  }
  if (broker.host.empty()) return SettingError(locate, node["uri"], absl::StrCat(what, ": uri has no host"));
  for (auto [field, out] : {std::pair{"client_id", &broker.client_id},
                            {"username", &broker.username},
                            {"password_file", &broker.password_file},
                            {"ca_file", &broker.ca_file},
                            {"cert_file", &broker.cert_file},
                            {"key_file", &broker.key_file}}) {
    if (node[field]) *out = node[field].as<std::string>();
  }
  if (broker.tls && broker.ca_file.empty()) {
    return SettingError(locate, node, absl::StrCat(what, ": mqtts:// needs ca_file"));
  }
  if (broker.cert_file.empty() != broker.key_file.empty()) {
    return SettingError(locate, node, absl::StrCat(what, ": cert_file and key_file go together"));
  }
  if (!broker.password_file.empty() && !std::ifstream(broker.password_file)) {
    return SettingError(locate, node["password_file"],
                        absl::StrCat(what, ": cannot read password_file ", broker.password_file));
  }
  absl::StatusOr<int> keepalive = IntSetting(node, "keepalive_s", 30, 5, 3600, what, locate);
  absl::StatusOr<int> min = IntSetting(node, "reconnect_min_ms", 500, 10, 600'000, what, locate);
  absl::StatusOr<int> max = IntSetting(node, "reconnect_max_ms", 30'000, 10, 600'000, what, locate);
  for (const auto* parsed : {&keepalive, &min, &max}) {
    if (!parsed->ok()) return parsed->status();
  }
  broker.keepalive_s = *keepalive;
  broker.reconnect_min_ms = *min;
  broker.reconnect_max_ms = std::max(*min, *max);
  return broker;
}

class MqttDriverFactory : public DriverFactory {
 public:
  absl::string_view name() const override { return "mqtt"; }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseSection(
      const YAML::Node& section, const NodeLocator& locate) const override {
    auto parsed = std::make_shared<MqttSection>();
    if (!section || section.IsNull()) return parsed;  // Devices then fail: they need a broker.
    if (!section.IsMap()) return SettingError(locate, section, "mqtt: must be a mapping with brokers");
    if (absl::Status s = CheckKnownFields(section, {"brokers"}, "mqtt", locate); !s.ok()) return s;
    const YAML::Node brokers = section["brokers"];
    if (!brokers || !brokers.IsSequence() || brokers.size() == 0) {
      return SettingError(locate, section, "mqtt: brokers must be a non-empty list");
    }
    for (size_t i = 0; i < brokers.size(); ++i) {
      absl::StatusOr<BrokerSettings> broker = ParseBroker(brokers[i], i, locate);
      if (!broker.ok()) return broker.status();
      for (const BrokerSettings& other : parsed->brokers) {
        if (other.name == broker->name) {
          return SettingError(locate, brokers[i], absl::StrCat("mqtt: duplicate broker '", broker->name, "'"));
        }
      }
      parsed->brokers.push_back(*std::move(broker));
    }
    return parsed;
  }

  absl::StatusOr<std::shared_ptr<const DriverSettings>> ParseDevice(
      const YAML::Node& settings, const ThingModel& model, const DriverSettings* section,
      absl::string_view where, const NodeLocator& locate) const override {
    const auto& brokers = static_cast<const MqttSection&>(*section).brokers;
    if (brokers.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": driver mqtt needs drivers.mqtt.brokers in the fleet file"));
    }
    if (absl::Status s = CheckKnownFields(
            settings, {"broker", "report_interval_ms", "offline_after_ms"}, where, locate);
        !s.ok()) {
      return s;
    }
    for (const pb::FunctionDef& function : model.product().thing_model().functions()) {
      if (function.id() == "property") {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": product function 'property' clashes with the MQTT property topics"));
      }
    }
    auto parsed = std::make_shared<MqttDeviceSettings>();
    if (settings["broker"]) {
      parsed->broker = settings["broker"].as<std::string>();
      if (std::none_of(brokers.begin(), brokers.end(),
                       [&](const BrokerSettings& b) { return b.name == parsed->broker; })) {
        return SettingError(locate, settings["broker"],
                            absl::StrCat("device: unknown broker '", parsed->broker, "'"));
      }
    } else if (brokers.size() == 1) {
      parsed->broker = brokers[0].name;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": settings.broker is required when the fleet has several brokers"));
    }
    absl::StatusOr<int> interval =
        IntSetting(settings, "report_interval_ms", 0, 0, 86'400'000, where, locate);
    if (!interval.ok()) return interval.status();
    absl::StatusOr<int> offline_after =
        IntSetting(settings, "offline_after_ms", 3 * *interval, 0, 86'400'000, where, locate);
    if (!offline_after.ok()) return offline_after.status();
    parsed->report_interval_ms = *interval;
    parsed->offline_after_ms = *offline_after;
    return parsed;
  }

  absl::StatusOr<std::unique_ptr<Driver>> Create(const DriverContext& context,
                                                 const DriverSettings* section) const override {
    return std::make_unique<MqttDriver>(static_cast<const MqttSection&>(*section), context.metrics);
  }
};

}  // namespace

std::unique_ptr<DriverFactory> MakeMqttDriverFactory() {
  return std::make_unique<MqttDriverFactory>();
}

}  // namespace nb::device
