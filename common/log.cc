#include "common/log.h"

#include <openssl/sha.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"

namespace nb::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
// Set once at start-up, before other threads log.
std::string& ServiceName() {
  static std::string name;
  return name;
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

boost::json::string_view JsonString(absl::string_view text) {
  return boost::json::string_view(text.data(), text.size());
}

void RedactValue(boost::json::value& value) {
  if (value.is_string()) {
    const boost::json::string& text = value.get_string();
    if (absl::StrContains(absl::string_view(text.data(), text.size()), "/messaging/")) {
      value = JsonString(RedactText(absl::string_view(text.data(), text.size())));
    }
  } else if (value.is_object()) {
    for (auto& [key, nested] : value.get_object()) {
      if (IsSecretField(absl::string_view(key.data(), key.size()))) {
        nested = "[redacted]";
      } else {
        RedactValue(nested);
      }
    }
  } else if (value.is_array()) {
    for (auto& nested : value.get_array()) RedactValue(nested);
  }
}

}  // namespace

absl::StatusOr<Level> ParseLevel(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warn" || lower == "warning") return Level::kWarn;
  if (lower == "error") return Level::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", text, "\" (use debug, info, warn or error)"));
}

void SetMinLevel(Level level) { min_level.store(static_cast<int>(level)); }

bool Enabled(Level level) { return static_cast<int>(level) >= min_level.load(); }

void SetService(absl::string_view service) { ServiceName() = std::string(service); }

bool IsSecretField(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (absl::string_view secret : {"token", "secret", "password", "authorization", "credential"}) {
    if (absl::StrContains(lower, secret)) return true;
  }
  return false;
}

std::string RedactText(absl::string_view text) {
  constexpr absl::string_view kPrefix = "/messaging/";
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(kPrefix, pos);
    if (hit == absl::string_view::npos) break;
    const size_t token_begin = hit + kPrefix.size();
    size_t token_end = token_begin;
    while (token_end < text.size() && text[token_end] != '?' && text[token_end] != ' ' &&
           text[token_end] != '"' && text[token_end] != '/') {
      ++token_end;
    }
    absl::StrAppend(&out, text.substr(pos, token_begin - pos), "[redacted]");
    pos = token_end;
  }
  absl::StrAppend(&out, text.substr(pos));
  return out;
}

std::string SecretHint(absl::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return absl::BytesToHexString(
             absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)))
      .substr(0, 8);
}

std::string Format(Level level, absl::string_view msg, Fields fields) {
  boost::json::object line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = JsonString(LevelName(level));
  if (!ServiceName().empty()) line["service"] = ServiceName();
  line["msg"] = JsonString(RedactText(msg));
  for (const auto& [name, value] : fields) {
    boost::json::value copy = value;
    if (IsSecretField(name)) {
      copy = "[redacted]";
    } else {
      RedactValue(copy);
    }
    line[JsonString(name)] = std::move(copy);
  }
  return boost::json::serialize(line);
}

void Write(Level level, absl::string_view msg, Fields fields) {
  std::string line = Format(level, msg, fields);
  line.push_back('\n');
  // One write() per line keeps lines from different threads whole.
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

}  // namespace nb::log
