#include "common/topic.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"

namespace nb {
namespace {

using northbound::common::v1::ErrorCode;

absl::Status UnknownTopic(absl::string_view topic) {
  return ErrorStatus(ErrorCode::UNKNOWN_TOPIC,
                     absl::StrCat("topic \"", topic,
                                  "\" is neither /device-message-sender/{productKey}/{deviceKeys}"
                                  " nor /device/{productKey}/{deviceKey}/..."));
}

}  // namespace

absl::StatusOr<TopicPattern> TopicPattern::Parse(absl::string_view pattern) {
  if (!absl::StartsWith(pattern, "/")) return UnknownTopic(pattern);
  std::vector<std::string> segments = absl::StrSplit(pattern.substr(1), '/');
  if (segments.size() < 4 || segments[0] != kEventTopicRoot) return UnknownTopic(pattern);
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].empty()) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                         absl::StrCat("topic \"", pattern, "\" has an empty segment"));
    }
    if (segments[i] == "**" && i + 1 != segments.size()) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                         absl::StrCat("topic \"", pattern, "\": ** may only be the last segment"));
    }
    if (segments[i] != "*" && segments[i] != "**" && absl::StrContains(segments[i], '*')) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                         absl::StrCat("topic \"", pattern, "\": * and ** must be whole segments"));
    }
  }
  if (segments[1] == "**" || segments[2] == "**") {
    // "/device/**" would be every event of every product; spell it /device/*/*/**.
    return ErrorStatus(
        ErrorCode::PARAMETER_ERROR,
        absl::StrCat("topic \"", pattern, "\": product and device segments take * not **"));
  }
  TopicPattern result;
  result.text_ = std::string(pattern);
  result.segments_ = std::move(segments);
  return result;
}

bool TopicPattern::Matches(absl::string_view topic) const {
  if (!absl::StartsWith(topic, "/")) return false;
  std::vector<absl::string_view> segments = absl::StrSplit(topic.substr(1), '/');
  return Matches(segments);
}

bool TopicPattern::Matches(const std::vector<absl::string_view>& segments) const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i] == "**") return segments.size() > i;
    if (i >= segments.size()) return false;
    if (segments_[i] != "*" && segments_[i] != segments[i]) return false;
  }
  return segments.size() == segments_.size();
}

std::string DeviceTopic(absl::string_view product_key, absl::string_view device_key,
                        absl::string_view suffix) {
  return absl::StrCat("/", kEventTopicRoot, "/", product_key, "/", device_key, "/", suffix);
}

absl::StatusOr<SenderTopic> ParseSenderTopic(absl::string_view topic) {
  if (!absl::StartsWith(topic, kSenderTopicPrefix)) return UnknownTopic(topic);
  const absl::string_view rest = topic.substr(kSenderTopicPrefix.size());
  const std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  if (parts.size() != 2 || parts[0].empty()) return UnknownTopic(topic);
  SenderTopic result;
  result.product_key = std::string(parts[0]);
  if (parts[1] == "*") {
    result.all_devices = true;
    return result;
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (absl::string_view key : absl::StrSplit(parts[1], ',')) {
    if (key.empty()) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                         absl::StrCat("topic \"", topic, "\" has an empty device key"));
    }
    if (key == "*") {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                         "* stands for every device and cannot be combined with device keys");
    }
    if (!seen.insert(key).second) continue;
    result.device_keys.emplace_back(key);
  }
  return result;
}

}  // namespace nb
