#ifndef NORTHBOUND_DEVICE_SERVICE_THING_MODEL_H_
#define NORTHBOUND_DEVICE_SERVICE_THING_MODEL_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "northbound/device/v1/thing_model.pb.h"

namespace nb::device {

namespace devicepb = northbound::device::v1;

// Longest STRING value when a DataSpec sets no max_length.
inline constexpr uint32_t kDefaultMaxStringBytes = 4096;

// Checks one value against its spec. Errors are PARAMETER_ERROR statuses whose message
// names `what` (for example "property 'temperature'") and the problem.
absl::Status CheckValue(const devicepb::DataSpec& spec, const google::protobuf::Value& value,
                        absl::string_view what);
// The same, naming the value "<kind> '<id>'" (for example "property 'temperature'"); the
// name is only spelled out when the value is refused, so a passing check allocates nothing.
absl::Status CheckValue(const devicepb::DataSpec& spec, const google::protobuf::Value& value,
                        absl::string_view kind, absl::string_view id);

// A product's thing model with lookups by id. Immutable after construction; safe to share
// between threads.
class ThingModel {
 public:
  explicit ThingModel(devicepb::Product product);

  const devicepb::Product& product() const { return product_; }
  const std::string& product_key() const { return product_.product_key(); }

  const devicepb::PropertyDef* FindProperty(absl::string_view id) const;
  const devicepb::FunctionDef* FindFunction(absl::string_view id) const;
  const devicepb::EventDef* FindEvent(absl::string_view id) const;

  // READ_PROPERTY: every id must be defined (PROPERTY_UNDEFINED). Returns the ids to read:
  // all properties when `ids` is empty, else `ids` without duplicates.
  absl::Status CheckRead(const std::vector<std::string>& ids,
                         std::vector<std::string>& resolved) const;
  // WRITE_PROPERTY: at least one value; each property defined (PROPERTY_UNDEFINED),
  // writable (READ_ONLY) and of the right type and range (PARAMETER_ERROR).
  absl::Status CheckWrite(const google::protobuf::Struct& values) const;
  // INVOKE_FUNCTION: function defined (FUNCTION_UNDEFINED); inputs known, typed and
  // required ones present (PARAMETER_ERROR).
  absl::Status CheckInvoke(absl::string_view function_id,
                           const google::protobuf::Struct& inputs) const;

 private:
  devicepb::Product product_;
  absl::flat_hash_map<std::string, int> properties_;
  absl::flat_hash_map<std::string, int> functions_;
  absl::flat_hash_map<std::string, int> events_;
};

// "float" -> FLOAT and so on, as written in fleet files; DATA_TYPE_UNSPECIFIED if unknown.
devicepb::DataType ParseDataType(absl::string_view name);
absl::string_view DataTypeName(devicepb::DataType type);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_THING_MODEL_H_
