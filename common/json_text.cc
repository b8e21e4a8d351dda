#include "common/json_text.h"

#include <charconv>
#include <cmath>
#include <string>

#include "boost/json/serialize.hpp"

namespace nb {

namespace json = boost::json;

namespace {

void AppendString(std::string& out, json::string_view text) {
  // boost::json escapes strings correctly (control characters, quotes, invalid UTF-8 is
  // never produced because inputs were parsed or are our own).
  out += json::serialize(text);
}

void AppendNumber(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";  // JSON has no NaN or infinity.
    return;
  }
  char buffer[32];
  std::to_chars_result result;
  if (number == std::floor(number) && std::fabs(number) <= 9007199254740992.0) {
    result = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(number));
  } else {
    result = std::to_chars(buffer, buffer + sizeof(buffer), number);
  }
  out.append(buffer, result.ptr);
}

void Append(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(value.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(value.get_uint64());
      break;
    case json::kind::double_:
      AppendNumber(out, value.get_double());
      break;
    case json::kind::string:
      AppendString(out, value.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        Append(out, item);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        AppendString(out, key);
        out += ':';
        Append(out, item);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string Serialize(const json::value& value) {
  std::string out;
  out.reserve(256);
  Append(out, value);
  return out;
}

}  // namespace nb
