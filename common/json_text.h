#ifndef NORTHBOUND_COMMON_JSON_TEXT_H_
#define NORTHBOUND_COMMON_JSON_TEXT_H_

#include <string>

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
google::protobuf::Value ToProtoValue(const boost::json::value& value);
google::protobuf::Struct ToProtoStruct(const boost::json::object& object);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_JSON_TEXT_H_
