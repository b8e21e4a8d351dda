#include "device-service/src/drivers/setting_fields.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nb::device {

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
    return SettingError(
        locate, node, absl::StrCat(what, ": ", field, " must be a whole number ", min, "..", max));
  }
  return value;
}

absl::StatusOr<double> NumberSetting(const YAML::Node& map, const char* field, double fallback,
                                     absl::string_view what, const NodeLocator& locate) {
  const YAML::Node node = map[field];
  if (!node) return fallback;
  double value = 0;
  if (!node.IsScalar() || !absl::SimpleAtod(node.Scalar(), &value) || !std::isfinite(value)) {
    return SettingError(locate, node, absl::StrCat(what, ": ", field, " must be a number"));
  }
  return value;
}

absl::Status CheckKnownFields(const YAML::Node& map, std::initializer_list<absl::string_view> known,
                              absl::string_view what, const NodeLocator& locate) {
  if (!map.IsMap()) return absl::OkStatus();
  for (const auto& item : map) {
    const std::string field = item.first.as<std::string>();
    if (std::find(known.begin(), known.end(), field) == known.end()) {
      return SettingError(locate, item.first,
                          absl::StrCat(what, ": unknown setting '", field, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace nb::device
