// libFuzzer target: Modbus register decoding and encoding (every table, type, word and
// byte order, scale) and the read planner, with the properties they promise checked.
// Input: 4 bytes of layout, then registers.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "device-service/src/drivers/modbus_codec.h"

namespace modbus = nb::device::modbus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  modbus::Location location;
  location.type = static_cast<modbus::Type>(data[0] % 8);
  location.table = modbus::IsBitTable(modbus::Table(data[1] % 4)) ? modbus::Table::kHolding
                                                                  : modbus::Table(data[1] % 4);
  if (location.type == modbus::Type::kBool) location.table = modbus::Table::kCoil;
  location.word_order = data[2] & 1 ? modbus::WordOrder::kLittle : modbus::WordOrder::kBig;
  location.byte_order = data[2] & 2 ? modbus::ByteOrder::kLittle : modbus::ByteOrder::kBig;
  const bool scaled = data[3] & 1;
  if (scaled) {
    location.scale = 0.1;
    location.offset = -40;
  }
  std::vector<uint16_t> registers(4, 0);
  std::memcpy(registers.data(), data + 4, std::min<size_t>(size - 4, 8));
  if (location.type == modbus::Type::kBool) registers[0] &= 1;

  const double value = modbus::Decode(location, registers.data());
  absl::StatusOr<std::vector<uint16_t>> encoded = modbus::Encode(location, value);
  const bool is_float =
      location.type == modbus::Type::kFloat32 || location.type == modbus::Type::kFloat64;
  // Unscaled integers survive the round trip exactly (int64 beyond 2^53 excepted: a double
  // cannot hold it); floats that are numbers do too.
  const bool exact = !scaled && (is_float ? std::isfinite(value)
                                          : location.type != modbus::Type::kInt64 ||
                                                std::fabs(value) < 9007199254740992.0);
  if (exact) {
    if (!encoded.ok()) std::abort();
    const int width = modbus::Width(location.type);
    if (static_cast<int>(encoded->size()) != width) std::abort();
    if (modbus::Decode(location, encoded->data()) != value) std::abort();
  }

  // Spans from the rest of the input: the plan covers every asked register, stays within
  // the spec's maxima and reads nothing unasked.
  std::vector<modbus::Span> spans;
  for (size_t i = 4; i + 3 < size && spans.size() < 64; i += 4) {
    modbus::Span span;
    span.table = modbus::Table(data[i] % 4);
    span.address = static_cast<uint16_t>(data[i + 1] | (data[i + 2] << 8)) % 200;
    span.count = 1 + data[i + 3] % 8;
    spans.push_back(span);
  }
  const std::vector<modbus::Span> plan = modbus::PlanReads(spans);
  for (const modbus::Span& request : plan) {
    const int max =
        modbus::IsBitTable(request.table) ? modbus::kMaxReadBits : modbus::kMaxReadRegisters;
    if (request.count < 1 || request.count > max) std::abort();
    for (int a = request.address; a < request.address + request.count; ++a) {
      bool asked = false;
      for (const auto& span : spans) {
        asked |= span.table == request.table && a >= span.address && a < span.address + span.count;
      }
      if (!asked) std::abort();
    }
  }
  for (const auto& span : spans) {
    for (int a = span.address; a < span.address + span.count; ++a) {
      bool covered = false;
      for (const auto& request : plan) {
        covered |= request.table == span.table && a >= request.address &&
                   a < request.address + request.count;
      }
      if (!covered) std::abort();
    }
  }
  return 0;
}
