// libFuzzer target: topic patterns and topics (docs/protocol.md §4, §5) and the MQTT
// topics device-service parses for every broker message. Input: a pattern, a newline, a
// topic.
#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "common/topic.h"
#include "device-service/src/drivers/alink_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('\n', 1));
  absl::StatusOr<nb::TopicPattern> pattern = nb::TopicPattern::Parse(parts.first);
  if (pattern.ok()) {
    const bool matches = pattern->Matches(parts.second);
    // A pattern without wildcards matches exactly itself.
    if (pattern->text().find('*') == std::string::npos &&
        matches != (parts.second == pattern->text())) {
      std::abort();
    }
    // Every pattern matches its own text.
    if (!pattern->Matches(pattern->text()) && pattern->text().find('*') == std::string::npos) {
      std::abort();
    }
  }
  absl::StatusOr<nb::SenderTopic> sender = nb::ParseSenderTopic(text);
  if (sender.ok() && !sender->all_devices && sender->device_keys.empty()) std::abort();
  std::optional<nb::device::alink::DeviceTopic> device = nb::device::alink::ParseTopic(text);
  if (device && device->device_path.size() > text.size()) std::abort();
  return 0;
}
