#ifndef NORTHBOUND_COMMON_JSON_TEXT_H_
#define NORTHBOUND_COMMON_JSON_TEXT_H_

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "google/protobuf/struct.pb.h"

namespace nb {

// Serializes JSON the way people and clients expect to read it: numbers in their shortest
// exact form ("20.5", "2", not "2.05E1"), integral doubles up to 2^53 without a fraction,
// NaN and infinity as null.
std::string Serialize(const boost::json::value& value);

// JSON <-> protobuf Struct/Value, for payloads and values. Objects come out with their keys
// sorted (protobuf maps have none), so the same value always reads the same.
boost::json::value ToJson(const google::protobuf::Value& value);
boost::json::object ToJson(const google::protobuf::Struct& value);
// The same text as Serialize(ToJson(value)), appended to `out` without building a JSON
// tree: what the hot paths use to render a payload straight into a frame.
void AppendJson(std::string& out, const google::protobuf::Value& value);
void AppendJson(std::string& out, const google::protobuf::Struct& value);
// `text` as a JSON string literal, quoted and escaped as Serialize escapes it.
void AppendJsonString(std::string& out, std::string_view text);
// `number` as Serialize writes it (shortest exact form, integral values without a
// fraction, NaN and infinity as null).
void AppendJsonNumber(std::string& out, double number);

// Members of an object being written straight into `out`, after its first member:
// ,"name":
void AppendJsonMemberName(std::string& out, std::string_view name);
// ,"name":"text"
void AppendJsonMember(std::string& out, std::string_view name, std::string_view text);
// ,"name":123
template <typename Integer>
std::enable_if_t<std::is_integral_v<Integer>> AppendJsonMember(std::string& out,
                                                               std::string_view name,
                                                               Integer value) {
  AppendJsonMemberName(out, name);
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof(buffer), value).ptr);
}

google::protobuf::Value ToProtoValue(const boost::json::value& value);
google::protobuf::Struct ToProtoStruct(const boost::json::object& object);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_JSON_TEXT_H_
