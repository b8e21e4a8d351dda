// libFuzzer target: what an MQTT device may publish (replies, property reports, events,
// status) decoded and checked against a thing model, as the mqtt driver does with every
// message (docs/device-service.md, "The mqtt driver").
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "device-service/src/driver_registry.h"
#include "device-service/src/drivers/alink_codec.h"
#include "device-service/src/fleet.h"

namespace {

namespace alink = nb::device::alink;

constexpr char kFleet[] = R"(
products:
  - key: p
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
      - {id: label, type: string, max_length: 16, access: rw}
      - {id: mode, type: enum, values: [eco, boost], access: rw}
      - {id: count, type: int, min: 0, max: 10}
      - {id: on, type: bool, access: rw}
    functions:
      - id: calibrate
        inputs: [{id: reference, type: float, required: true}]
        outputs: [{id: offset, type: float}]
    events:
      - id: overheat
        fields: [{id: temperature, type: float}]
devices:
  - {key: d, product: p}
)";

const nb::device::ThingModel& Model() {
  static const auto fleet = std::make_unique<nb::device::Fleet>(
      *nb::device::ParseFleet(kFleet, "fuzz", nb::device::DriverRegistry::Builtin()));
  return *fleet->products.front();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nb::device::ThingModel& model = Model();
  const absl::string_view payload(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<alink::Reply> reply = alink::DecodeReply(payload); reply.ok()) {
    for (auto type : {northbound::device::v1::READ_PROPERTY, northbound::device::v1::WRITE_PROPERTY,
                      northbound::device::v1::INVOKE_FUNCTION}) {
      nb::device::Command command;
      command.type = type;
      command.message_id = reply->id;
      command.properties = {"temperature", "label"};
      command.function_id = "calibrate";
      alink::AnswerFromReply(model, command, *reply);
    }
  }
  if (absl::StatusOr<alink::Post> post = alink::DecodePost(payload); post.ok()) {
    alink::EncodePostAck(*post);
    absl::StatusOr<google::protobuf::Struct> event =
        alink::CheckEvent(model, "overheat", post->params);
    if (event.ok() && event->fields_size() > post->params.fields_size() + 1) std::abort();
    alink::CheckedReport report = alink::CheckReport(model, post->params);
    // Whatever is accepted fits the model.
    for (const auto& [name, value] : report.values.fields()) {
      if (model.FindProperty(name) == nullptr) std::abort();
    }
  }
  absl::StatusOr<alink::DeviceStatus> status = alink::DecodeStatus(payload);
  if (status.ok() && payload.empty()) std::abort();
  return 0;
}
