#include "device-service/src/fleet.h"

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "device-service/src/driver_registry.h"

namespace nb::device {
namespace {

// Keys appear in topics: letters, digits, '-', '_' and '.', 1..64 bytes.
bool IsValidKey(absl::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// Reads the fleet file's YAML nodes into protos and configs; the first error wins.
class FleetParser {
 public:
  FleetParser(absl::string_view source, const DriverRegistry& drivers)
      : source_(source), drivers_(drivers) {}

  absl::StatusOr<Fleet> Parse(const YAML::Node& root);

 private:
  absl::Status Error(const YAML::Node& node, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(NodeLocation(source_, node), ": ", problem));
  }
  absl::Status RequireMap(const YAML::Node& node, absl::string_view what) const;
  absl::StatusOr<std::string> RequiredString(const YAML::Node& map, absl::string_view field,
                                             absl::string_view what) const;
  std::string OptionalString(const YAML::Node& map, absl::string_view field) const;
  // Walks a list whose entries are mappings with a unique "id", calling `parse` with the
  // entry, its id and how to name it in messages ("<kind> '<id>'").
  absl::Status ForEachEntry(const YAML::Node& list, absl::string_view list_name,
                            absl::string_view kind,
                            const std::function<absl::Status(const YAML::Node&, const std::string&,
                                                             const std::string&)>& parse) const;
  std::string NameOr(const YAML::Node& entry, const std::string& id) const {
    const std::string name = OptionalString(entry, "name");
    return name.empty() ? id : name;
  }
  absl::Status ParseSpec(const YAML::Node& node, absl::string_view what,
                         devicepb::DataSpec& spec) const;
  absl::Status ParseParameters(
      const YAML::Node& list, absl::string_view what,
      google::protobuf::RepeatedPtrField<devicepb::ParameterDef>& out) const;
  absl::Status ParseProduct(const YAML::Node& node, devicepb::Product& product) const;
  absl::Status ParseDevice(const YAML::Node& node,
                           const absl::flat_hash_map<std::string, const ThingModel*>& products,
                           const std::map<std::string, YAML::Node>& sections, Fleet& fleet,
                           DeviceConfig& device) const;
  NodeLocator Locator() const {
    return [source = source_](const YAML::Node& node) { return NodeLocation(source, node); };
  }

  std::string source_;
  const DriverRegistry& drivers_;
};

absl::Status FleetParser::RequireMap(const YAML::Node& node, absl::string_view what) const {
  if (!node.IsMap()) return Error(node, absl::StrCat(what, " must be a mapping"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> FleetParser::RequiredString(const YAML::Node& map,
                                                        absl::string_view field,
                                                        absl::string_view what) const {
  const YAML::Node value = map[std::string(field)];
  if (!value || !value.IsScalar() || value.Scalar().empty()) {
    return Error(map, absl::StrCat(what, ": '", field, "' is required"));
  }
  return value.Scalar();
}

std::string FleetParser::OptionalString(const YAML::Node& map, absl::string_view field) const {
  const YAML::Node value = map[std::string(field)];
  return value && value.IsScalar() ? value.Scalar() : std::string();
}

absl::Status FleetParser::ParseSpec(const YAML::Node& node, absl::string_view what,
                                    devicepb::DataSpec& spec) const {
  absl::StatusOr<std::string> type = RequiredString(node, "type", what);
  if (!type.ok()) return type.status();
  spec.set_type(ParseDataType(*type));
  if (spec.type() == devicepb::DATA_TYPE_UNSPECIFIED) {
    return Error(node[std::string("type")],
                 absl::StrCat(what, ": unknown type '", *type,
                              "' (use int, long, float, double, bool, string, enum or date)"));
  }
  try {
    if (node["min"]) spec.set_min(node["min"].as<double>());
    if (node["max"]) spec.set_max(node["max"].as<double>());
    if (node["max_length"]) spec.set_max_length(node["max_length"].as<uint32_t>());
  } catch (const YAML::Exception&) {
    return Error(node, absl::StrCat(what, ": min, max and max_length must be numbers"));
  }
  if (spec.has_min() && spec.has_max() && spec.min() > spec.max()) {
    return Error(node, absl::StrCat(what, ": min is greater than max"));
  }
  spec.set_unit(OptionalString(node, "unit"));
  if (spec.type() == devicepb::ENUM) {
    const YAML::Node values = node["values"];
    if (!values || !values.IsSequence() || values.size() == 0) {
      return Error(node, absl::StrCat(what, ": an enum needs a non-empty 'values' list"));
    }
    for (const YAML::Node& value : values) spec.add_enum_values(value.as<std::string>());
  }
  return absl::OkStatus();
}

absl::Status FleetParser::ForEachEntry(
    const YAML::Node& list, absl::string_view list_name, absl::string_view kind,
    const std::function<absl::Status(const YAML::Node&, const std::string&, const std::string&)>&
        parse) const {
  if (!list) return absl::OkStatus();
  if (!list.IsSequence()) return Error(list, absl::StrCat(list_name, " must be a list"));
  absl::flat_hash_set<std::string> ids;
  for (const YAML::Node& entry : list) {
    if (absl::Status s = RequireMap(entry, kind); !s.ok()) return s;
    absl::StatusOr<std::string> id = RequiredString(entry, "id", kind);
    if (!id.ok()) return id.status();
    const std::string what = absl::StrCat(kind, " '", *id, "'");
    if (!ids.insert(*id).second) return Error(entry, absl::StrCat("duplicate ", what));
    if (absl::Status s = parse(entry, *id, what); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FleetParser::ParseParameters(
    const YAML::Node& list, absl::string_view what,
    google::protobuf::RepeatedPtrField<devicepb::ParameterDef>& out) const {
  return ForEachEntry(
      list, what, what,
      [&](const YAML::Node& node, const std::string& id, const std::string& entry_what) {
        devicepb::ParameterDef& parameter = *out.Add();
        parameter.set_id(id);
        parameter.set_name(NameOr(node, id));
        parameter.set_required(node["required"] && node["required"].as<bool>(false));
        return ParseSpec(node, entry_what, *parameter.mutable_spec());
      });
}

absl::Status FleetParser::ParseProduct(const YAML::Node& node, devicepb::Product& product) const {
  if (absl::Status s = RequireMap(node, "a product"); !s.ok()) return s;
  absl::StatusOr<std::string> key = RequiredString(node, "key", "product");
  if (!key.ok()) return key.status();
  if (!IsValidKey(*key)) {
    return Error(node, absl::StrCat("product key '", *key,
                                    "' must be 1..64 letters, digits, '-', '_' or '.'"));
  }
  product.set_product_key(*key);
  product.set_name(NameOr(node, *key));
  product.set_description(OptionalString(node, "description"));
  devicepb::ThingModel& model = *product.mutable_thing_model();

  absl::Status status = ForEachEntry(
      node["properties"], "properties", "property",
      [&](const YAML::Node& entry, const std::string& id, const std::string& what) -> absl::Status {
        devicepb::PropertyDef& property = *model.add_properties();
        property.set_id(id);
        property.set_name(NameOr(entry, id));
        const std::string access = OptionalString(entry, "access");
        if (access.empty() || access == "r") {
          property.set_access(devicepb::READ_ONLY);
        } else if (access == "rw") {
          property.set_access(devicepb::READ_WRITE);
        } else {
          return Error(entry, absl::StrCat(what, ": access must be r or rw, not '", access, "'"));
        }
        return ParseSpec(entry, what, *property.mutable_spec());
      });
  if (!status.ok()) return status;
  status = ForEachEntry(
      node["functions"], "functions", "function",
      [&](const YAML::Node& entry, const std::string& id, const std::string& what) -> absl::Status {
        devicepb::FunctionDef& function = *model.add_functions();
        function.set_id(id);
        function.set_name(NameOr(entry, id));
        if (absl::Status s = ParseParameters(entry["inputs"], absl::StrCat(what, " input"),
                                             *function.mutable_inputs());
            !s.ok()) {
          return s;
        }
        return ParseParameters(entry["outputs"], absl::StrCat(what, " output"),
                               *function.mutable_outputs());
      });
  if (!status.ok()) return status;
  return ForEachEntry(node["events"], "events", "event",
                      [&](const YAML::Node& entry, const std::string& id, const std::string& what) {
                        devicepb::EventDef& event = *model.add_events();
                        event.set_id(id);
                        event.set_name(NameOr(entry, id));
                        return ParseParameters(entry["fields"], absl::StrCat(what, " field"),
                                               *event.mutable_fields());
                      });
}

absl::Status FleetParser::ParseDevice(
    const YAML::Node& node, const absl::flat_hash_map<std::string, const ThingModel*>& products,
    const std::map<std::string, YAML::Node>& sections, Fleet& fleet, DeviceConfig& device) const {
  if (absl::Status s = RequireMap(node, "a device"); !s.ok()) return s;
  absl::StatusOr<std::string> key = RequiredString(node, "key", "device");
  if (!key.ok()) return key.status();
  if (!IsValidKey(*key)) {
    return Error(node, absl::StrCat("device key '", *key,
                                    "' must be 1..64 letters, digits, '-', '_' or '.'"));
  }
  absl::StatusOr<std::string> product =
      RequiredString(node, "product", absl::StrCat("device '", *key, "'"));
  if (!product.ok()) return product.status();
  if (!products.contains(*product)) {
    return Error(node, absl::StrCat("device '", *key, "': unknown product '", *product, "'"));
  }
  device.key = *key;
  device.product_key = *product;
  device.name = NameOr(node, *key);
  device.driver = OptionalString(node, "driver").empty() ? "sim" : OptionalString(node, "driver");
  device.location = NodeLocation(source_, node);
  const DriverFactory* factory = drivers_.Find(device.driver);
  if (factory == nullptr) {
    const YAML::Node driver = node["driver"];
    return Error(driver ? driver : node,
                 absl::StrCat("device '", *key, "': unknown driver '", device.driver,
                              "' (available: ", drivers_.Names(), ")"));
  }
  if (!fleet.driver_sections.contains(device.driver)) {
    auto section = sections.find(device.driver);
    absl::StatusOr<std::shared_ptr<const DriverSettings>> parsed = factory->ParseSection(
        section == sections.end() ? YAML::Node() : section->second, Locator());
    if (!parsed.ok()) return parsed.status();
    fleet.driver_sections[device.driver] = *std::move(parsed);
  }
  const YAML::Node settings = node["settings"] ? node["settings"] : YAML::Node(YAML::NodeType::Map);
  if (!settings.IsMap())
    return Error(settings, absl::StrCat("device '", *key, "': settings must be a mapping"));
  absl::StatusOr<std::shared_ptr<const DriverSettings>> parsed = factory->ParseDevice(
      settings, *products.at(*product), fleet.driver_sections[device.driver].get(),
      absl::StrCat(device.location, ": device '", *key, "'"), Locator());
  if (!parsed.ok()) return parsed.status();
  device.settings = *std::move(parsed);
  return absl::OkStatus();
}

absl::StatusOr<Fleet> FleetParser::Parse(const YAML::Node& root) {
  if (!root.IsMap())
    return Error(root, "the fleet file must be a mapping with products and devices");
  const YAML::Node products = root["products"];
  if (!products || !products.IsSequence() || products.size() == 0) {
    return Error(root, "'products' must be a non-empty list");
  }
  Fleet fleet;
  absl::flat_hash_map<std::string, const ThingModel*> product_keys;
  for (const YAML::Node& node : products) {
    devicepb::Product product;
    if (absl::Status s = ParseProduct(node, product); !s.ok()) return s;
    if (product_keys.contains(product.product_key())) {
      return Error(node, absl::StrCat("duplicate product '", product.product_key(), "'"));
    }
    fleet.products.push_back(std::make_shared<const ThingModel>(std::move(product)));
    product_keys[fleet.products.back()->product_key()] = fleet.products.back().get();
  }
  // drivers.<name> sections by name; each is parsed once, by the first device of its kind.
  std::map<std::string, YAML::Node> sections;
  if (const YAML::Node node = root["drivers"]) {
    if (!node.IsMap()) {
      return Error(node, "'drivers' must be a mapping of driver name to its settings");
    }
    for (const auto& item : node) {
      const std::string name = item.first.as<std::string>();
      if (drivers_.Find(name) == nullptr) {
        return Error(item.first, absl::StrCat("drivers: unknown driver '", name,
                                              "' (available: ", drivers_.Names(), ")"));
      }
      sections.emplace(name, item.second);
    }
  }
  const YAML::Node devices = root["devices"];
  if (devices && !devices.IsSequence()) return Error(devices, "'devices' must be a list");
  absl::flat_hash_set<std::string> device_ids;
  if (devices) {
    for (const YAML::Node& node : devices) {
      DeviceConfig device;
      if (absl::Status s = ParseDevice(node, product_keys, sections, fleet, device); !s.ok()) {
        return s;
      }
      if (!device_ids.insert(absl::StrCat(device.product_key, "/", device.key)).second) {
        return Error(node, absl::StrCat("duplicate device '", device.key, "' in product '",
                                        device.product_key, "'"));
      }
      fleet.devices.push_back(std::move(device));
    }
  }
  return fleet;
}

}  // namespace

std::string NodeLocation(absl::string_view source_name, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return std::string(source_name);
  return absl::StrCat(source_name, ":", mark.line + 1);
}

absl::StatusOr<Fleet> ParseFleet(const std::string& yaml_text, absl::string_view source_name) {
  return ParseFleet(yaml_text, source_name, DriverRegistry::Builtin());
}

absl::StatusOr<Fleet> ParseFleet(const std::string& yaml_text, absl::string_view source_name,
                                 const DriverRegistry& drivers) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", e.mark.line + 1, ": ", e.msg));
  }
  try {
    return FleetParser(source_name, drivers).Parse(root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<Fleet> LoadFleetFile(const std::string& path) {
  return LoadFleetFile(path, DriverRegistry::Builtin());
}

absl::StatusOr<Fleet> LoadFleetFile(const std::string& path, const DriverRegistry& drivers) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read fleet file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseFleet(text.str(), path, drivers);
}

}  // namespace nb::device
