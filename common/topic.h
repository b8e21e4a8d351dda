#ifndef NORTHBOUND_COMMON_TOPIC_H_
#define NORTHBOUND_COMMON_TOPIC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Topics of docs/protocol.md §4 and §5 and the pattern matching of live-event topics.
namespace nb {

inline constexpr absl::string_view kEventTopicRoot = "device";

// A live-event topic pattern such as "/device/sagoo-product/*/message/**". "*" matches
// exactly one segment; "**", allowed only as the last segment, matches one or more.
class TopicPattern {
 public:
  // UNKNOWN_TOPIC unless the pattern is under /device/{productKey}/{deviceKey}/;
  // PARAMETER_ERROR for empty segments or "**" that is not last.
  static absl::StatusOr<TopicPattern> Parse(absl::string_view pattern);

  bool Matches(absl::string_view topic) const;
  // Matches a topic already split into segments (without the leading empty one).
  bool Matches(const std::vector<absl::string_view>& segments) const;

  const std::string& text() const { return text_; }
  // The product and device segments as written ("*" for a wildcard).
  const std::string& product_key() const { return segments_[1]; }
  const std::string& device_key() const { return segments_[2]; }

 private:
  std::string text_;
  std::vector<std::string> segments_;
};

// "/device/{product}/{device}/{suffix}".
std::string DeviceTopic(absl::string_view product_key, absl::string_view device_key,
                        absl::string_view suffix);

// The parts of "/device-message-sender/{productKey}/{deviceKeys}".
struct SenderTopic {
  std::string product_key;
  // Empty when all_devices.
  std::vector<std::string> device_keys;
  bool all_devices = false;
};

inline constexpr absl::string_view kSenderTopicPrefix = "/device-message-sender/";

// UNKNOWN_TOPIC if the shape is wrong; PARAMETER_ERROR for an empty device key or a `*`
// among keys. Duplicate keys are kept once, in first-seen order. How many devices one
// command may address is device-service's rule (--max_devices_per_command there), not
// the topic's.
absl::StatusOr<SenderTopic> ParseSenderTopic(absl::string_view topic);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_TOPIC_H_
