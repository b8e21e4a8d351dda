#include "device-service/src/thing_model.h"

#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace nb::device {
namespace {

using google::protobuf::Value;
using northbound::common::v1::ErrorCode;

absl::Status ParameterError(absl::string_view what, absl::string_view problem) {
  return ErrorStatus(ErrorCode::PARAMETER_ERROR, absl::StrCat(what, " ", problem));
}

absl::string_view KindName(const Value& value) {
  switch (value.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return "a number";
    case Value::kStringValue:
      return "a string";
    case Value::kBoolValue:
      return "a boolean";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue:
      return "a list";
    default:
      return "nothing";
  }
}

absl::Status WrongType(const devicepb::DataSpec& spec, const Value& value, absl::string_view what) {
  return ParameterError(
      what, absl::StrCat("must be ", DataTypeName(spec.type()), ", got ", KindName(value)));
}

absl::Status CheckNumber(const devicepb::DataSpec& spec, double number, absl::string_view what) {
  if (!std::isfinite(number)) return ParameterError(what, "must be a finite number");
  switch (spec.type()) {
    case devicepb::INT:
      if (number != std::floor(number) || number < std::numeric_limits<int32_t>::min() ||
          number > std::numeric_limits<int32_t>::max()) {
        return ParameterError(what, absl::StrCat("must be a 32-bit integer, got ", number));
      }
      break;
    case devicepb::LONG:
    case devicepb::DATE:
      // Integers beyond 2^53 do not survive JSON's doubles.
      if (number != std::floor(number) || std::fabs(number) > 9007199254740992.0) {
        return ParameterError(what,
                              absl::StrCat("must be an integer of at most 2^53, got ", number));
      }
      if (spec.type() == devicepb::DATE && number < 0) {
        return ParameterError(what, "must be milliseconds since 1970, not negative");
      }
      break;
    case devicepb::FLOAT:
      if (std::fabs(number) > std::numeric_limits<float>::max()) {
        return ParameterError(what, "is out of the range of a float");
      }
      break;
    default:
      break;
  }
  if (spec.has_min() && number < spec.min()) {
    return ParameterError(what, absl::StrCat("must be at least ", spec.min(), ", got ", number));
  }
  if (spec.has_max() && number > spec.max()) {
    return ParameterError(what, absl::StrCat("must be at most ", spec.max(), ", got ", number));
  }
  return absl::OkStatus();
}

}  // namespace

devicepb::DataType ParseDataType(absl::string_view name) {
  if (name == "int") return devicepb::INT;
  if (name == "long") return devicepb::LONG;
  if (name == "float") return devicepb::FLOAT;
  if (name == "double") return devicepb::DOUBLE;
  if (name == "bool" || name == "boolean") return devicepb::BOOL;
  if (name == "string") return devicepb::STRING;
  if (name == "enum") return devicepb::ENUM;
  if (name == "date") return devicepb::DATE;
  return devicepb::DATA_TYPE_UNSPECIFIED;
}

absl::string_view DataTypeName(devicepb::DataType type) {
  switch (type) {
    case devicepb::INT:
      return "int";
    case devicepb::LONG:
      return "long";
    case devicepb::FLOAT:
      return "float";
    case devicepb::DOUBLE:
      return "double";
    case devicepb::BOOL:
      return "bool";
    case devicepb::STRING:
      return "string";
    case devicepb::ENUM:
      return "enum";
    case devicepb::DATE:
      return "date";
    default:
      return "unknown";
  }
}

absl::Status CheckValue(const devicepb::DataSpec& spec, const Value& value,
                        absl::string_view what) {
  switch (spec.type()) {
    case devicepb::INT:
    case devicepb::LONG:
    case devicepb::FLOAT:
    case devicepb::DOUBLE:
    case devicepb::DATE:
      if (value.kind_case() != Value::kNumberValue) return WrongType(spec, value, what);
      return CheckNumber(spec, value.number_value(), what);
    case devicepb::BOOL:
      if (value.kind_case() != Value::kBoolValue) return WrongType(spec, value, what);
      return absl::OkStatus();
    case devicepb::STRING: {
      if (value.kind_case() != Value::kStringValue) return WrongType(spec, value, what);
      const uint32_t limit = spec.max_length() > 0 ? spec.max_length() : kDefaultMaxStringBytes;
      if (value.string_value().size() > limit) {
        return ParameterError(what, absl::StrCat("is longer than ", limit, " bytes"));
      }
      return absl::OkStatus();
    }
    case devicepb::ENUM:
      if (value.kind_case() != Value::kStringValue) return WrongType(spec, value, what);
      for (const std::string& allowed : spec.enum_values()) {
        if (allowed == value.string_value()) return absl::OkStatus();
      }
      return ParameterError(
          what, absl::StrCat("must be one of [", absl::StrJoin(spec.enum_values(), ", "),
                             "], got \"", value.string_value(), "\""));
    default:
      return ErrorStatus(ErrorCode::SYSTEM_ERROR, absl::StrCat(what, " has no type"));
  }
}

absl::Status CheckValue(const devicepb::DataSpec& spec, const Value& value, absl::string_view kind,
                        absl::string_view id) {
  if (absl::Status status = CheckValue(spec, value, ""); status.ok()) return status;
  return CheckValue(spec, value, absl::StrCat(kind, " '", id, "'"));
}

ThingModel::ThingModel(devicepb::Product product) : product_(std::move(product)) {
  const devicepb::ThingModel& model = product_.thing_model();
  for (int i = 0; i < model.properties_size(); ++i) properties_[model.properties(i).id()] = i;
  for (int i = 0; i < model.functions_size(); ++i) functions_[model.functions(i).id()] = i;
  for (int i = 0; i < model.events_size(); ++i) events_[model.events(i).id()] = i;
}

const devicepb::PropertyDef* ThingModel::FindProperty(absl::string_view id) const {
  auto it = properties_.find(id);
  return it == properties_.end() ? nullptr : &product_.thing_model().properties(it->second);
}

const devicepb::FunctionDef* ThingModel::FindFunction(absl::string_view id) const {
  auto it = functions_.find(id);
  return it == functions_.end() ? nullptr : &product_.thing_model().functions(it->second);
}

const devicepb::EventDef* ThingModel::FindEvent(absl::string_view id) const {
  auto it = events_.find(id);
  return it == events_.end() ? nullptr : &product_.thing_model().events(it->second);
}

absl::Status ThingModel::CheckRead(const std::vector<std::string>& ids,
                                   std::vector<std::string>& resolved) const {
  resolved.clear();
  if (ids.empty()) {
    for (const devicepb::PropertyDef& property : product_.thing_model().properties()) {
      resolved.push_back(property.id());
    }
    return absl::OkStatus();
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& id : ids) {
    if (FindProperty(id) == nullptr) {
      return ErrorStatus(
          ErrorCode::PROPERTY_UNDEFINED,
          absl::StrCat("property ", Quoted(id), " is not defined by product ", product_key()));
    }
    if (seen.insert(id).second) resolved.push_back(id);
  }
  return absl::OkStatus();
}

absl::Status ThingModel::CheckWrite(const google::protobuf::Struct& values) const {
  if (values.fields().empty()) {
    return ErrorStatus(ErrorCode::PARAMETER_ERROR, "properties must name at least one value");
  }
  for (const auto& [id, value] : values.fields()) {
    const devicepb::PropertyDef* property = FindProperty(id);
    if (property == nullptr) {
      return ErrorStatus(
          ErrorCode::PROPERTY_UNDEFINED,
          absl::StrCat("property ", Quoted(id), " is not defined by product ", product_key()));
    }
    if (property->access() != devicepb::READ_WRITE) {
      return ErrorStatus(ErrorCode::READ_ONLY, absl::StrCat("property '", id, "' is read-only"));
    }
    if (absl::Status status = CheckValue(property->spec(), value, "property", id); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status ThingModel::CheckInvoke(absl::string_view function_id,
                                     const google::protobuf::Struct& inputs) const {
  if (function_id.empty()) {
    return ErrorStatus(ErrorCode::PARAMETER_ERROR, "functionId is required for INVOKE_FUNCTION");
  }
  const devicepb::FunctionDef* function = FindFunction(function_id);
  if (function == nullptr) {
    return ErrorStatus(ErrorCode::FUNCTION_UNDEFINED,
                       absl::StrCat("function ", Quoted(function_id), " is not defined by product ",
                                    product_key()));
  }
  for (const auto& [id, value] : inputs.fields()) {
    const devicepb::ParameterDef* input = nullptr;
    for (const devicepb::ParameterDef& candidate : function->inputs()) {
      if (candidate.id() == id) input = &candidate;
    }
    if (input == nullptr) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR,
                         absl::StrCat("function '", function_id, "' has no input ", Quoted(id)));
    }
    if (absl::Status status = CheckValue(input->spec(), value, "input", id); !status.ok()) {
      return status;
    }
  }
  for (const devicepb::ParameterDef& input : function->inputs()) {
    if (input.required() && !inputs.fields().contains(input.id())) {
      return ErrorStatus(
          ErrorCode::PARAMETER_ERROR,
          absl::StrCat("function '", function_id, "' needs input '", input.id(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace nb::device
