#include "device-service/src/drivers/modbus_settings.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "device-service/src/drivers/setting_fields.h"

namespace nb::device {
namespace {

using modbus::Location;
using modbus::Table;
using modbus::Type;

bool IsNumeric(devicepb::DataType type) {
  return type == devicepb::INT || type == devicepb::LONG || type == devicepb::FLOAT ||
         type == devicepb::DOUBLE || type == devicepb::DATE;
}

// {table, address, type, word_order, byte_order, scale, offset}; `extra` names the one
// further field the caller allows (value, for a function's writes).
absl::StatusOr<Location> ParseLocation(const YAML::Node& node, absl::string_view what,
                                       const NodeLocator& locate, bool with_value) {
  if (!node.IsMap()) return SettingError(locate, node, absl::StrCat(what, ": must be a mapping"));
  absl::Status known =
      with_value
          ? CheckKnownFields(node,
                             {"table", "address", "type", "word_order", "byte_order", "scale",
                              "offset", "value"},
                             what, locate)
          : CheckKnownFields(
                node, {"table", "address", "type", "word_order", "byte_order", "scale", "offset"},
                what, locate);
  if (!known.ok()) return known;
  Location location;
  if (!node["table"] || !modbus::ParseTable(node["table"].Scalar(), location.table)) {
    return SettingError(locate, node["table"] ? node["table"] : node,
                        absl::StrCat(what, ": table must be coil, discrete, input or holding"));
  }
  if (!node["address"])
    return SettingError(locate, node, absl::StrCat(what, ": address is required"));
  absl::StatusOr<int> address = IntSetting(node, "address", 0, 0, 65535, what, locate);
  if (!address.ok()) return address.status();
  location.address = static_cast<uint16_t>(*address);
  const bool bits = modbus::IsBitTable(location.table);
  location.type = bits ? Type::kBool : Type::kUint16;
  if (node["type"] && !modbus::ParseType(node["type"].Scalar(), location.type)) {
    return SettingError(locate, node["type"],
                        absl::StrCat(what,
                                     ": type must be bool, int16, uint16, int32, uint32, "
                                     "int64, float32 or float64"));
  }
  if (bits != (location.type == Type::kBool)) {
    return SettingError(locate, node["type"] ? node["type"] : node,
                        absl::StrCat(what, ": ",
                                     bits ? "coils and discrete inputs hold bool"
                                          : "registers hold numbers, not bool"));
  }
  for (auto [field, out] : {std::pair{"word_order", &location.word_order}}) {
    if (!node[field]) continue;
    const std::string order = node[field].Scalar();
    if (order != "big" && order != "little") {
      return SettingError(locate, node[field],
                          absl::StrCat(what, ": ", field, " is big or little"));
    }
    *out = order == "big" ? modbus::WordOrder::kBig : modbus::WordOrder::kLittle;
  }
  if (node["byte_order"]) {
    const std::string order = node["byte_order"].Scalar();
    if (order != "big" && order != "little") {
      return SettingError(locate, node["byte_order"],
                          absl::StrCat(what, ": byte_order is big or little"));
    }
    location.byte_order = order == "big" ? modbus::ByteOrder::kBig : modbus::ByteOrder::kLittle;
  }
  absl::StatusOr<double> scale = NumberSetting(node, "scale", 1, what, locate);
  if (!scale.ok()) return scale.status();
  absl::StatusOr<double> offset = NumberSetting(node, "offset", 0, what, locate);
  if (!offset.ok()) return offset.status();
  if (*scale == 0)
    return SettingError(locate, node["scale"], absl::StrCat(what, ": scale must not be 0"));
  if (bits && (*scale != 1 || *offset != 0)) {
    return SettingError(locate, node, absl::StrCat(what, ": bits take no scale or offset"));
  }
  location.scale = *scale;
  location.offset = *offset;
  if (location.address + modbus::Width(location.type) - 1 > 65535) {
    return SettingError(locate, node["address"], absl::StrCat(what, ": runs past address 65535"));
  }
  return location;
}

bool Overlap(const Location& a, const Location& b) {
  if (a.table != b.table) return false;
  const int a_end = a.address + modbus::Width(a.type);
  const int b_end = b.address + modbus::Width(b.type);
  return a.address < b_end && b.address < a_end;
}

bool SameValue(const Location& a, const Location& b) {
  return a.table == b.table && a.address == b.address && a.type == b.type &&
         a.word_order == b.word_order && a.byte_order == b.byte_order;
}

absl::StatusOr<ModbusFunction> ParseFunction(const YAML::Node& node,
                                             const devicepb::FunctionDef& def,
                                             const ModbusDeviceSettings& device,
                                             const NodeLocator& locate) {
  const std::string what = absl::StrCat("function '", def.id(), "'");
  if (!node.IsMap())
    return SettingError(locate, node, absl::StrCat(what, ": must be a mapping with writes"));
  if (absl::Status s = CheckKnownFields(node, {"writes"}, what, locate); !s.ok()) return s;
  const YAML::Node writes = node["writes"];
  if (!writes || !writes.IsSequence() || writes.size() == 0) {
    return SettingError(locate, node, absl::StrCat(what, ": writes must be a non-empty list"));
  }
  ModbusFunction function;
  function.id = def.id();
  for (const YAML::Node& write : writes) {
    absl::StatusOr<Location> location = ParseLocation(write, what, locate, /*with_value=*/true);
    if (!location.ok()) return location.status();
    if (!modbus::IsWritable(location->table)) {
      return SettingError(locate, write["table"],
                          absl::StrCat(what, ": writes go to coil or holding"));
    }
    const YAML::Node value = write["value"];
    double number = 0;
    bool flag = false;
    if (!value || !value.IsScalar()) {
      return SettingError(locate, write, absl::StrCat(what, ": each write needs a value"));
    }
    if (location->type == Type::kBool && YAML::convert<bool>::decode(value, flag)) {
      number = flag ? 1 : 0;
    } else if (!absl::SimpleAtod(value.Scalar(), &number)) {
      return SettingError(locate, value, absl::StrCat(what, ": value must be a number"));
    }
    if (absl::StatusOr<std::vector<uint16_t>> fits = modbus::Encode(*location, number);
        !fits.ok()) {
      return SettingError(locate, value, absl::StrCat(what, ": ", fits.status().message()));
    }
    function.writes.push_back({*location, number});
  }
  for (const devicepb::ParameterDef& output : def.outputs()) {
    if (device.FindProperty(output.id()) == nullptr) {
      return SettingError(locate, node,
                          absl::StrCat(what, ": output '", output.id(),
                                       "' is read back from the property of that id; the "
                                       "product has none"));
    }
    function.outputs.push_back(output.id());
  }
  return function;
}

}  // namespace

std::string ModbusDeviceSettings::endpoint() const { return absl::StrCat(host, ":", port); }

const ModbusProperty* ModbusDeviceSettings::FindProperty(absl::string_view id) const {
  for (const ModbusProperty& property : properties) {
    if (property.id == id) return &property;
  }
  return nullptr;
}

const ModbusFunction* ModbusDeviceSettings::FindFunction(absl::string_view id) const {
  for (const ModbusFunction& function : functions) {
    if (function.id == id) return &function;
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const ModbusSection>> ParseModbusSection(const YAML::Node& section,
                                                                        const NodeLocator& locate) {
  auto parsed = std::make_shared<ModbusSection>();
  if (!section || section.IsNull()) return parsed;
  if (!section.IsMap()) return SettingError(locate, section, "modbus: must be a mapping");
  if (absl::Status s = CheckKnownFields(
          section,
          {"queue_limit", "reconnect_min_ms", "reconnect_max_ms", "offline_after_failures"},
          "modbus", locate);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<int> queue = IntSetting(section, "queue_limit", 64, 1, 100'000, "modbus", locate);
  absl::StatusOr<int> min =
      IntSetting(section, "reconnect_min_ms", 200, 10, 600'000, "modbus", locate);
  absl::StatusOr<int> max =
      IntSetting(section, "reconnect_max_ms", 10'000, 10, 600'000, "modbus", locate);
  absl::StatusOr<int> failures =
      IntSetting(section, "offline_after_failures", 3, 1, 1000, "modbus", locate);
  for (const auto* value : {&queue, &min, &max, &failures}) {
    if (!value->ok()) return value->status();
  }
  parsed->queue_limit = *queue;
  parsed->reconnect_min_ms = *min;
  parsed->reconnect_max_ms = std::max(*min, *max);
  parsed->offline_after_failures = *failures;
  return parsed;
}

absl::StatusOr<std::shared_ptr<const ModbusDeviceSettings>> ParseModbusDevice(
    const YAML::Node& settings, const ThingModel& model, absl::string_view where,
    const NodeLocator& locate) {
  if (absl::Status s = CheckKnownFields(settings,
                                        {"endpoint", "unit_id", "poll_interval_ms", "timeout_ms",
                                         "report_every_polls", "registers", "functions"},
                                        "device", locate);
      !s.ok()) {
    return s;
  }
  auto parsed = std::make_shared<ModbusDeviceSettings>();
  const YAML::Node endpoint = settings["endpoint"];
  if (!endpoint || !endpoint.IsScalar()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": settings.endpoint (host:port) is required"));
  }
  const std::string text = endpoint.Scalar();
  const size_t colon = text.rfind(':');
  parsed->host = text.substr(0, colon);
  if (colon != std::string::npos && (!absl::SimpleAtoi(text.substr(colon + 1), &parsed->port) ||
                                     parsed->port < 1 || parsed->port > 65535)) {
    return SettingError(locate, endpoint, "endpoint: bad port (host:port)");
  }
  if (parsed->host.empty()) return SettingError(locate, endpoint, "endpoint: no host (host:port)");
  absl::StatusOr<int> unit = IntSetting(settings, "unit_id", 1, 0, 255, "device", locate);
  absl::StatusOr<int> poll =
      IntSetting(settings, "poll_interval_ms", 1000, 0, 86'400'000, "device", locate);
  absl::StatusOr<int> timeout =
      IntSetting(settings, "timeout_ms", 500, 10, 60'000, "device", locate);
  absl::StatusOr<int> every =
      IntSetting(settings, "report_every_polls", 0, 0, 1'000'000, "device", locate);
  for (const auto* value : {&unit, &poll, &timeout, &every}) {
    if (!value->ok()) return value->status();
  }
  parsed->unit_id = *unit;
  parsed->poll_interval_ms = *poll;
  parsed->timeout_ms = *timeout;
  parsed->report_every_polls = *every;

  const YAML::Node registers = settings["registers"];
  if (registers && !registers.IsMap()) {
    return SettingError(locate, registers, "registers: a mapping from property id to register");
  }
  if (registers) {
    for (const auto& item : registers) {
      const std::string id = item.first.as<std::string>();
      const devicepb::PropertyDef* def = model.FindProperty(id);
      if (def == nullptr) {
        return SettingError(locate, item.first,
                            absl::StrCat("registers: product ", model.product_key(),
                                         " has no property '", id, "'"));
      }
      const std::string what = absl::StrCat("property '", id, "'");
      absl::StatusOr<Location> location = ParseLocation(item.second, what, locate, false);
      if (!location.ok()) return location.status();
      const devicepb::DataType type = def->spec().type();
      if ((type != devicepb::BOOL && !IsNumeric(type)) ||
          (type == devicepb::BOOL) != (location->type == Type::kBool)) {
        return SettingError(
            locate, item.second,
            absl::StrCat(what, ": a ", DataTypeName(type), " property cannot live in a ",
                         modbus::TableName(location->table),
                         type == devicepb::BOOL || IsNumeric(type)
                             ? ""
                             : " (Modbus carries bits and numbers)"));
      }
      if (def->access() == devicepb::READ_WRITE && !modbus::IsWritable(location->table)) {
        return SettingError(
            locate, item.second,
            absl::StrCat(what, " is rw but the ", modbus::TableName(location->table),
                         " table is read-only (use coil or holding)"));
      }
      for (const ModbusProperty& other : parsed->properties) {
        if (Overlap(other.location, *location) && !SameValue(other.location, *location)) {
          return SettingError(locate, item.second,
                              absl::StrCat(what, " overlaps the registers of property '", other.id,
                                           "' (", modbus::TableName(location->table), " ",
                                           location->address, ") with a different layout"));
        }
      }
      parsed->properties.push_back({id, type, *location});
    }
  }
  // Model order, and nothing left out.
  std::vector<ModbusProperty> ordered;
  for (const devicepb::PropertyDef& def : model.product().thing_model().properties()) {
    const ModbusProperty* mapped = parsed->FindProperty(def.id());
    if (mapped == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": property '", def.id(),
                                                     "' of product ", model.product_key(),
                                                     " has no register in settings.registers"));
    }
    ordered.push_back(*mapped);
  }
  parsed->properties = std::move(ordered);

  const YAML::Node functions = settings["functions"];
  if (functions && !functions.IsMap()) {
    return SettingError(locate, functions, "functions: a mapping from function id to writes");
  }
  if (functions) {
    for (const auto& item : functions) {
      const std::string id = item.first.as<std::string>();
      const devicepb::FunctionDef* def = model.FindFunction(id);
      if (def == nullptr) {
        return SettingError(locate, item.first,
                            absl::StrCat("functions: product ", model.product_key(),
                                         " has no function '", id, "'"));
      }
      absl::StatusOr<ModbusFunction> function = ParseFunction(item.second, *def, *parsed, locate);
      if (!function.ok()) return function.status();
      parsed->functions.push_back(*std::move(function));
    }
  }
  for (const devicepb::FunctionDef& def : model.product().thing_model().functions()) {
    if (parsed->FindFunction(def.id()) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": function '", def.id(),
                                                     "' of product ", model.product_key(),
                                                     " has no writes in settings.functions"));
    }
  }
  return parsed;
}

}  // namespace nb::device
