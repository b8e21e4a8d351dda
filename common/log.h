#ifndef NORTHBOUND_COMMON_LOG_H_
#define NORTHBOUND_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

// Structured logging: one JSON object per line on stderr, for example
//   {"ts":"2026-11-26T05:20:00.123Z","level":"info","service":"device-service",
//    "msg":"serving","grpc_port":50051}
// Secrets never reach the output: fields named like a secret (token, secret, password,
// authorization, credential) are replaced by "[redacted]", and a "/messaging/<token>"
// path inside any string value loses its token. Safe to call from any thread.
namespace nb::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// One name/value pair of a log line. Converts from the usual value types.
struct Field {
  Field(absl::string_view name, boost::json::value value) : name(name), value(std::move(value)) {}
  Field(absl::string_view name, const std::string& text)
      : name(name), value(boost::json::string_view(text.data(), text.size())) {}
  Field(absl::string_view name, absl::string_view text)
      : name(name), value(boost::json::string_view(text.data(), text.size())) {}
  Field(absl::string_view name, const char* text) : name(name), value(text) {}

  absl::string_view name;
  boost::json::value value;
};
using Fields = std::initializer_list<Field>;

absl::StatusOr<Level> ParseLevel(absl::string_view text);
void SetMinLevel(Level level);
bool Enabled(Level level);
// Names the process in every line.
void SetService(absl::string_view service);

// Formats one line (without the newline); exposed for tests.
std::string Format(Level level, absl::string_view msg, Fields fields);
void Write(Level level, absl::string_view msg, Fields fields);

inline void Debug(absl::string_view msg, Fields fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, fields);
}
inline void Info(absl::string_view msg, Fields fields = {}) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, msg, fields);
}
inline void Warn(absl::string_view msg, Fields fields = {}) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, msg, fields);
}
inline void Error(absl::string_view msg, Fields fields = {}) {
  if (Enabled(Level::kError)) Write(Level::kError, msg, fields);
}

// True for field names whose values must never be logged.
bool IsSecretField(absl::string_view name);
// Removes secrets embedded in free text (a token in a /messaging/ path).
std::string RedactText(absl::string_view text);
// A short, stable, non-reversible name for a secret: the first 8 hex digits of its
// SHA-256. Lets logs tell tokens apart without revealing them.
std::string SecretHint(absl::string_view secret);

}  // namespace nb::log

#endif  // NORTHBOUND_COMMON_LOG_H_
