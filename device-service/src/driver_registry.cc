#include "device-service/src/driver_registry.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace nb::device {

absl::StatusOr<std::shared_ptr<const DriverSettings>> DriverFactory::ParseSection(
    const YAML::Node& section, const NodeLocator& locate) const {
  if (section && !section.IsNull()) {
    return absl::InvalidArgumentError(
        absl::StrCat(locate(section), ": driver '", name(), "' takes no fleet-wide settings"));
  }
  return nullptr;
}

const DriverRegistry& DriverRegistry::Builtin() {
  static const DriverRegistry* const registry = [] {
    auto* builtin = new DriverRegistry();
    AddBuiltinDrivers(*builtin);
    return builtin;
  }();
  return *registry;
}

void DriverRegistry::Add(std::unique_ptr<DriverFactory> factory) {
  factories_.push_back(std::move(factory));
}

const DriverFactory* DriverRegistry::Find(absl::string_view name) const {
  for (const auto& factory : factories_) {
    if (factory->name() == name) return factory.get();
  }
  return nullptr;
}

std::string DriverRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& factory : factories_) names.emplace_back(factory->name());
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ", ");
}

}  // namespace nb::device
