#include "device-service/src/device_metrics.h"

#include "absl/strings/ascii.h"
#include "common/metrics.h"

namespace nb::device {

namespace devicepb = northbound::device::v1;

DeviceMetrics::DeviceMetrics(prometheus::Registry& registry,
                             const std::vector<std::string>& product_keys) {
  auto& online = prometheus::BuildGauge()
                     .Name(MetricName("device", "devices_online"))
                     .Help("Devices connected, by product.")
                     .Register(registry);
  for (const std::string& product : product_keys)
    online_[product] = &online.Add({{"product", product}});
  auto& devices = prometheus::BuildGauge()
                      .Name(MetricName("device", "devices"))
                      .Help("Devices in the fleet, by product, online or not.")
                      .Register(registry);
  for (const std::string& product : product_keys)
    devices_[product] = &devices.Add({{"product", product}});

  auto& commands = prometheus::BuildCounter()
                       .Name(MetricName("device", "commands", "", true))
                       .Help(
                           "Per-device commands finished, by message type and result code "
                           "(OK or a protocol error code).")
                       .Register(registry);
  auto& latency = prometheus::BuildHistogram()
                      .Name(MetricName("device", "command_latency", "seconds"))
                      .Help(
                          "Time from dispatch to the device's answer (or failure), by message "
                          "type.")
                      .Register(registry);
  for (int type = devicepb::MessageType_MIN; type <= devicepb::MessageType_MAX; ++type) {
    const std::string type_name =
        absl::AsciiStrToLower(devicepb::MessageType_Name(static_cast<devicepb::MessageType>(type)));
    std::vector<prometheus::Counter*> by_code;
    for (int code = northbound::common::v1::ErrorCode_MIN;
         code <= northbound::common::v1::ErrorCode_MAX; ++code) {
      const std::string code_name =
          code == 0 ? "OK" : std::string(ErrorCodeName(static_cast<ErrorCode>(code)));
      by_code.push_back(&commands.Add({{"message_type", type_name}, {"code", code_name}}));
    }
    commands_.push_back(std::move(by_code));
    latency_.push_back(&latency.Add({{"message_type", type_name}}, LatencyBuckets()));
  }

  subscriptions_ = &prometheus::BuildGauge()
                        .Name(MetricName("device", "subscriptions"))
                        .Help("Live Subscribe streams.")
                        .Register(registry)
                        .Add({});
  auto& events = prometheus::BuildCounter()
                     .Name(MetricName("device", "events_published", "", true))
                     .Help("Events published to subscribers, by kind.")
                     .Register(registry);
  for (int kind = devicepb::EventKind_MIN; kind <= devicepb::EventKind_MAX; ++kind) {
    events_.push_back(&events.Add({{"kind", absl::AsciiStrToLower(devicepb::EventKind_Name(
                                                static_cast<devicepb::EventKind>(kind)))}}));
  }
  dropped_ = &prometheus::BuildCounter()
                  .Name(MetricName("device", "events_dropped", "", true))
                  .Help("Events dropped because a subscriber's queue was full.")
                  .Register(registry)
                  .Add({});
}

void DeviceMetrics::SetDevices(const std::string& product_key, double devices) {
  if (auto it = devices_.find(product_key); it != devices_.end()) it->second->Set(devices);
}

void DeviceMetrics::SetOnline(const std::string& product_key, double online_devices) {
  auto it = online_.find(product_key);
  if (it != online_.end()) it->second->Set(online_devices);
}

void DeviceMetrics::CountCommand(devicepb::MessageType type, ErrorCode code, double seconds) {
  if (type < 0 || static_cast<size_t>(type) >= commands_.size()) return;
  if (code < 0 || static_cast<size_t>(code) >= commands_[type].size()) return;
  commands_[type][code]->Increment();
  latency_[type]->Observe(seconds);
}

void DeviceMetrics::SetSubscriptions(double count) { subscriptions_->Set(count); }

void DeviceMetrics::CountEvent(devicepb::EventKind kind) {
  if (kind >= 0 && static_cast<size_t>(kind) < events_.size()) events_[kind]->Increment();
}

void DeviceMetrics::CountDropped(int count) { dropped_->Increment(count); }

}  // namespace nb::device
