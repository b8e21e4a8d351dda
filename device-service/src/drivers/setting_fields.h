#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_SETTING_FIELDS_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_SETTING_FIELDS_H_

#include <initializer_list>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "device-service/src/fleet.h"
#include "yaml-cpp/yaml.h"

// Helpers the drivers' settings parsers share. Every error names the fleet file line of
// the node at fault.
namespace nb::device {

// INVALID_ARGUMENT "<file>:<line>: <problem>".
absl::Status SettingError(const NodeLocator& locate, const YAML::Node& node,
                          absl::string_view problem);

// `map[field]` as a whole number in min..max; `fallback` when absent.
absl::StatusOr<int> IntSetting(const YAML::Node& map, const char* field, int fallback, int min,
                               int max, absl::string_view what, const NodeLocator& locate);

// `map[field]` as a number; `fallback` when absent.
absl::StatusOr<double> NumberSetting(const YAML::Node& map, const char* field, double fallback,
                                     absl::string_view what, const NodeLocator& locate);

// An error naming the first key of `map` that is not in `known` (a typo must not be
// silently ignored).
absl::Status CheckKnownFields(const YAML::Node& map, std::initializer_list<absl::string_view> known,
                              absl::string_view what, const NodeLocator& locate);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_SETTING_FIELDS_H_
