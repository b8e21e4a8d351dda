#ifndef NORTHBOUND_COMMON_JSON_TEXT_H_
#define NORTHBOUND_COMMON_JSON_TEXT_H_

#include <string>

#include "boost/json/value.hpp"

namespace nb {

// Serializes JSON the way people and clients expect to read it: numbers in their shortest
// exact form ("20.5", "2", not "2.05E1"), integral doubles up to 2^53 without a fraction,
// NaN and infinity as null.
std::string Serialize(const boost::json::value& value);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_JSON_TEXT_H_
