// What READ_PROPERTY, WRITE_PROPERTY, INVOKE_FUNCTION and a poll mean in registers:
// the ModbusEndpoint members that turn a command into requests (docs/device-service.md,
// "The modbus driver").
#include <modbus/modbus.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "device-service/src/drivers/modbus_endpoint.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;

google::protobuf::Value ToValue(devicepb::DataType type, double value) {
  google::protobuf::Value out;
  if (type == devicepb::BOOL) {
    out.set_bool_value(value != 0);
  } else if (type == devicepb::INT || type == devicepb::LONG || type == devicepb::DATE) {
    out.set_number_value(std::nearbyint(value));
  } else {
    out.set_number_value(value);
  }
  return out;
}

double DecodeFrom(const modbus::Registers& registers, const modbus::Location& location) {
  uint16_t words[4] = {};
  for (int i = 0; i < modbus::Width(location.type); ++i) {
    words[i] = registers.at({location.table, location.address + i});
  }
  return modbus::Decode(location, words);
}

}  // namespace

modbus::Result ModbusEndpoint::ReadAll(Unit& unit,
                                       const std::vector<const modbus::Location*>& locations,
                                       Clock::time_point deadline, Registers& registers) {
  std::vector<modbus::Span> spans;
  for (const modbus::Location* location : locations) {
    spans.push_back({location->table, location->address, modbus::Width(location->type)});
  }
  for (const modbus::Span& span : modbus::PlanReads(std::move(spans))) {
    uint16_t words[modbus::kMaxReadRegisters];
    uint8_t bits[modbus::kMaxReadBits];
    Result result = Request(unit, deadline, [&](modbus_t* context) {
      switch (span.table) {
        case modbus::Table::kCoil:
          return modbus_read_bits(context, span.address, span.count, bits);
        case modbus::Table::kDiscrete:
          return modbus_read_input_bits(context, span.address, span.count, bits);
        case modbus::Table::kInput:
          return modbus_read_input_registers(context, span.address, span.count, words);
        case modbus::Table::kHolding:
          return modbus_read_registers(context, span.address, span.count, words);
      }
      return -1;
    });
    if (!result.ok()) return result;
    for (int i = 0; i < span.count; ++i) {
      registers[{span.table, span.address + i}] =
          modbus::IsBitTable(span.table) ? bits[i] : words[i];
    }
  }
  return Result{};
}

absl::Status ModbusEndpoint::ReadProperties(Unit& unit, const std::vector<std::string>& ids,
                                            Clock::time_point deadline,
                                            google::protobuf::Struct& payload) {
  std::vector<const ModbusProperty*> properties;
  std::vector<const modbus::Location*> locations;
  for (const std::string& id : ids) {
    const ModbusProperty* property = unit.settings->FindProperty(id);
    if (property == nullptr) {
      return ErrorStatus(ErrorCode::PROPERTY_UNDEFINED, absl::StrCat("no property '", id, "'"));
    }
    properties.push_back(property);
    locations.push_back(&property->location);
  }
  Registers registers;
  Result result = ReadAll(unit, locations, deadline, registers);
  if (!Settle(unit, result)) return ConnectionLost();
  if (!result.ok()) return Failure(unit, result);
  for (const ModbusProperty* property : properties) {
    google::protobuf::Value value =
        ToValue(property->data_type, DecodeFrom(registers, property->location));
    const devicepb::PropertyDef* def = unit.model->FindProperty(property->id);
    if (absl::Status s = CheckValue(def->spec(), value, "property", property->id); !s.ok()) {
      metrics_.invalid().Increment();
      return ErrorStatus(
          ErrorCode::DEVICE_ERROR,
          absl::StrCat("the device's value is refused by the thing model: ", s.message()));
    }
    (*payload.mutable_fields())[property->id] = std::move(value);
  }
  return absl::OkStatus();
}

absl::Status ModbusEndpoint::Write(Unit& unit, const modbus::Location& location, double value,
                                   Clock::time_point deadline) {
  absl::StatusOr<std::vector<uint16_t>> words = modbus::Encode(location, value);
  if (!words.ok()) return ErrorStatus(ErrorCode::PARAMETER_ERROR, words.status().message());
  Result result = Request(unit, deadline, [&](modbus_t* context) {
    if (location.table == modbus::Table::kCoil) {
      return modbus_write_bit(context, location.address, (*words)[0] != 0);  // function 5
    }
    if (words->size() == 1) {
      return modbus_write_register(context, location.address, (*words)[0]);  // function 6
    }
    return modbus_write_registers(context, location.address, static_cast<int>(words->size()),
                                  words->data());  // function 16
  });
  if (!Settle(unit, result)) return ConnectionLost();
  if (!result.ok()) return Failure(unit, result);
  return absl::OkStatus();
}

absl::Status ModbusEndpoint::Failure(const Unit& unit, const Result& result) {
  if (result.outcome == ModbusMetrics::Outcome::kTimeout) {
    return ErrorStatus(ErrorCode::TIME_OUT,
                       absl::StrCat("no answer from ", name_, " unit ", unit.settings->unit_id,
                                    " within ", unit.settings->timeout_ms, " ms"));
  }
  return ErrorStatus(ErrorCode::DEVICE_ERROR, result.message);
}

absl::Status ModbusEndpoint::ConnectionLost() {
  return ErrorStatus(ErrorCode::NO_REPLY, absl::StrCat("connection to ", name_, " lost"));
}

void ModbusEndpoint::RunCommand(Job& job) {
  Unit& unit = *job.unit;
  const Command& command = job.command;
  DeviceAnswer answer;
  switch (command.type) {
    case devicepb::READ_PROPERTY:
      answer.status = ReadProperties(unit, command.properties, command.deadline, answer.payload);
      break;
    case devicepb::WRITE_PROPERTY: {
      std::vector<std::string> written;
      for (const auto& [id, value] : command.values.fields()) {
        const ModbusProperty* property = unit.settings->FindProperty(id);
        if (property == nullptr) {
          answer.status =
              ErrorStatus(ErrorCode::PROPERTY_UNDEFINED, absl::StrCat("no property '", id, "'"));
          break;
        }
        const double number =
            value.has_bool_value() ? (value.bool_value() ? 1 : 0) : value.number_value();
        answer.status = Write(unit, property->location, number, command.deadline);
        if (!answer.status.ok()) break;
        written.push_back(id);
      }
      // The answer is what the device holds now, read back.
      if (answer.status.ok()) {
        answer.status = ReadProperties(unit, written, command.deadline, answer.payload);
      }
      break;
    }
    case devicepb::INVOKE_FUNCTION: {
      const ModbusFunction* function = unit.settings->FindFunction(command.function_id);
      if (function == nullptr) {
        answer.status = ErrorStatus(ErrorCode::FUNCTION_UNDEFINED,
                                    absl::StrCat("no function '", command.function_id, "'"));
        break;
      }
      for (const ModbusWrite& write : function->writes) {
        answer.status = Write(unit, write.location, write.value, command.deadline);
        if (!answer.status.ok()) break;
      }
      if (answer.status.ok() && !function->outputs.empty()) {
        answer.status = ReadProperties(unit, function->outputs, command.deadline, answer.payload);
      }
      break;
    }
    default:
      answer.status = ErrorStatus(ErrorCode::UNSUPPORTED_MESSAGE, "unsupported command");
  }
  if (!answer.status.ok()) answer.payload.Clear();
  Answer(job, std::move(answer));
}

void ModbusEndpoint::Poll(Unit& unit) {
  const ModbusDeviceSettings& settings = *unit.settings;
  const auto interval =
      std::chrono::milliseconds(settings.poll_interval_ms > 0 ? settings.poll_interval_ms : 1000);
  const Clock::time_point due = unit.next_poll;
  metrics_.polls().Increment();
  std::vector<std::string> ids;
  for (const ModbusProperty& property : settings.properties) ids.push_back(property.id);
  google::protobuf::Struct values;
  const absl::Status read = ReadProperties(
      unit, ids, Clock::now() + std::chrono::milliseconds(settings.timeout_ms), values);
  if (!connected_) return;  // the connection dropped; Connect schedules the next poll
  // On the interval's grid, so a 1 s poll is one poll a second however long each takes;
  // polls missed while the endpoint was busy are skipped, not made up in a burst. Online
  // units without polling are read only when asked.
  Clock::time_point next = due + interval;
  if (next <= Clock::now()) next = Clock::now() + interval;
  unit.next_poll =
      unit.online.load() && settings.poll_interval_ms == 0 ? Clock::time_point::max() : next;
  if (!read.ok()) return;
  const bool everything =
      settings.report_every_polls > 0 && ++unit.polls_since_report >= settings.report_every_polls;
  google::protobuf::Struct report;
  for (const auto& [id, value] : values.fields()) {
    const double number = value.has_bool_value() ? value.bool_value() : value.number_value();
    auto [it, inserted] = unit.last_values.try_emplace(id, number);
    if (inserted || it->second != number || everything) {
      it->second = number;
      (*report.mutable_fields())[id] = value;
    }
  }
  if (everything) unit.polls_since_report = 0;
  if (!report.fields().empty()) listener_->OnPropertyReport(unit.index, std::move(report));
}

}  // namespace nb::device
