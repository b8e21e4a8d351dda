#include "device-service/src/drivers/mqtt_settings.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "device-service/src/drivers/setting_fields.h"

namespace nb::device {
namespace {

absl::StatusOr<BrokerSettings> ParseBroker(const YAML::Node& node, size_t position,
                                           const NodeLocator& locate) {
  if (!node.IsMap()) return SettingError(locate, node, "mqtt: each broker must be a mapping");
  BrokerSettings broker;
  broker.name = node["name"] ? node["name"].as<std::string>() : (position == 0 ? "default" : "");
  if (broker.name.empty()) return SettingError(locate, node, "mqtt: a broker needs a name");
  const std::string what = absl::StrCat("mqtt broker '", broker.name, "'");
  if (absl::Status s = CheckKnownFields(
          node,
          {"name", "uri", "client_id", "username", "password_file", "ca_file", "cert_file",
           "key_file", "keepalive_s", "reconnect_min_ms", "reconnect_max_ms"},
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
  if (colon != absl::string_view::npos && (!absl::SimpleAtoi(uri.substr(colon + 1), &broker.port) ||
                                           broker.port < 1 || broker.port > 65535)) {
    return SettingError(locate, node["uri"], absl::StrCat(what, ": bad port in uri"));
  }
  if (broker.host.empty())
    return SettingError(locate, node["uri"], absl::StrCat(what, ": uri has no host"));
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

}  // namespace

absl::StatusOr<std::shared_ptr<const MqttSection>> ParseMqttSection(const YAML::Node& section,
                                                                    const NodeLocator& locate) {
  auto parsed = std::make_shared<MqttSection>();
  if (!section || section.IsNull()) return parsed;  // Devices then fail: they need a broker.
  if (!section.IsMap())
    return SettingError(locate, section, "mqtt: must be a mapping with brokers");
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
        return SettingError(locate, brokers[i],
                            absl::StrCat("mqtt: duplicate broker '", broker->name, "'"));
      }
    }
    parsed->brokers.push_back(*std::move(broker));
  }
  return parsed;
}

absl::StatusOr<std::shared_ptr<const MqttDeviceSettings>> ParseMqttDevice(
    const YAML::Node& settings, const ThingModel& model, const MqttSection& section,
    absl::string_view where, const NodeLocator& locate) {
  const auto& brokers = section.brokers;
  if (brokers.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": driver mqtt needs drivers.mqtt.brokers in the fleet file"));
  }
  if (absl::Status s = CheckKnownFields(
          settings, {"broker", "report_interval_ms", "offline_after_ms"}, "device", locate);
      !s.ok()) {
    return s;
  }
  for (const devicepb::FunctionDef& function : model.product().thing_model().functions()) {
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

}  // namespace nb::device
