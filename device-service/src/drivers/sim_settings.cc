#include "device-service/src/drivers/sim_settings.h"

#include "absl/strings/str_cat.h"

namespace nb::device {
namespace {

using google::protobuf::Value;

Value YamlToValue(const YAML::Node& node) {
  Value value;
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    bool flag;
    double number;
    if (node.Tag() != "!" && YAML::convert<bool>::decode(node, flag)) {
      value.set_bool_value(flag);
    } else if (node.Tag() != "!" && YAML::convert<double>::decode(node, number)) {
      value.set_number_value(number);
    } else {
      value.set_string_value(text);
    }
  }
  return value;
}

}  // namespace

absl::StatusOr<SimSettings> ParseSimSettings(const YAML::Node& node, const ThingModel& model,
                                             absl::string_view where) {
  SimSettings settings;
  auto error = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
  };
  try {
    auto non_negative = [&](const char* field, int& out) -> absl::Status {
      if (!node[field]) return absl::OkStatus();
      out = node[field].as<int>();
      if (out < 0 || out > 3'600'000) return error(absl::StrCat(field, " must be 0..3600000"));
      return absl::OkStatus();
    };
    for (auto [field, out] : {std::pair{"latency_ms", &settings.latency_ms},
                              {"report_interval_ms", &settings.report_interval_ms},
                              {"event_interval_ms", &settings.event_interval_ms},
                              {"flap_interval_ms", &settings.flap_interval_ms}}) {
      if (absl::Status s = non_negative(field, *out); !s.ok()) return s;
    }
    if (node["online"]) settings.online = node["online"].as<bool>();
    if (const YAML::Node initial = node["initial"]) {
      if (!initial.IsMap()) return error("initial must be a mapping of property values");
      for (const auto& item : initial) {
        const std::string id = item.first.as<std::string>();
        const devicepb::PropertyDef* property = model.FindProperty(id);
        if (property == nullptr) return error(absl::StrCat("initial: no property '", id, "'"));
        Value value = YamlToValue(item.second);
        if (property->spec().type() == devicepb::STRING ||
            property->spec().type() == devicepb::ENUM) {
          value.set_string_value(item.second.as<std::string>());
        }
        if (absl::Status s = CheckValue(property->spec(), value, "initial", id); !s.ok()) {
          return error(s.message());
        }
        (*settings.initial.mutable_fields())[id] = value;
      }
    }
    if (const YAML::Node functions = node["functions"]) {
      for (const auto& item : functions) {
        const std::string id = item.first.as<std::string>();
        if (model.FindFunction(id) == nullptr) {
          return error(absl::StrCat("functions: no function '", id, "'"));
        }
        FunctionBehaviour behaviour;
        if (item.second["latency_ms"]) behaviour.latency_ms = item.second["latency_ms"].as<int>();
        if (item.second["fail"]) behaviour.fail = item.second["fail"].as<std::string>();
        settings.functions[id] = behaviour;
      }
    }
  } catch (const YAML::Exception& e) {
    return error(e.msg);
  }
  return settings;
}

}  // namespace nb::device
