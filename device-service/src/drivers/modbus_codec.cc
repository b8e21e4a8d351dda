#include "device-service/src/drivers/modbus_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace nb::device::modbus {
namespace {

// The value's 16-bit words, most significant first, from registers as read.
uint64_t Gather(const Location& location, const uint16_t* registers) {
  const int width = Width(location.type);
  uint64_t bits = 0;
  for (int i = 0; i < width; ++i) {
    uint16_t word = registers[location.word_order == WordOrder::kBig ? i : width - 1 - i];
    if (location.byte_order == ByteOrder::kLittle)
      word = static_cast<uint16_t>(word << 8 | word >> 8);
    bits = bits << 16 | word;
  }
  return bits;
}

std::vector<uint16_t> Scatter(const Location& location, uint64_t bits) {
  const int width = Width(location.type);
  std::vector<uint16_t> registers(width);
  for (int i = width - 1; i >= 0; --i) {
    uint16_t word = static_cast<uint16_t>(bits & 0xffff);
    bits >>= 16;
    if (location.byte_order == ByteOrder::kLittle)
      word = static_cast<uint16_t>(word << 8 | word >> 8);
    registers[location.word_order == WordOrder::kBig ? i : width - 1 - i] = word;
  }
  return registers;
}

}  // namespace

bool IsBitTable(Table table) { return table == Table::kCoil || table == Table::kDiscrete; }
bool IsWritable(Table table) { return table == Table::kCoil || table == Table::kHolding; }

int Width(Type type) {
  switch (type) {
    case Type::kBool:
    case Type::kInt16:
    case Type::kUint16:
      return 1;
    case Type::kInt32:
    case Type::kUint32:
    case Type::kFloat32:
      return 2;
    case Type::kInt64:
    case Type::kFloat64:
      return 4;
  }
  return 1;
}

double RawMin(Type type) {
  switch (type) {
    case Type::kBool:
    case Type::kUint16:
    case Type::kUint32:
      return 0;
    case Type::kInt16:
      return std::numeric_limits<int16_t>::min();
    case Type::kInt32:
      return std::numeric_limits<int32_t>::min();
    case Type::kInt64:
      return static_cast<double>(std::numeric_limits<int64_t>::min());
    case Type::kFloat32:
      return -std::numeric_limits<float>::max();
    case Type::kFloat64:
      return -std::numeric_limits<double>::max();
  }
  return 0;
}

double RawMax(Type type) {
  switch (type) {
    case Type::kBool:
      return 1;
    case Type::kUint16:
      return std::numeric_limits<uint16_t>::max();
    case Type::kInt16:
      return std::numeric_limits<int16_t>::max();
    case Type::kUint32:
      return std::numeric_limits<uint32_t>::max();
    case Type::kInt32:
      return std::numeric_limits<int32_t>::max();
    case Type::kInt64:
      // The largest double below 2^63: anything above does not convert back.
      return 9223372036854774784.0;
    case Type::kFloat32:
      return std::numeric_limits<float>::max();
    case Type::kFloat64:
      return std::numeric_limits<double>::max();
  }
  return 0;
}

absl::string_view TableName(Table table) {
  switch (table) {
    case Table::kCoil:
      return "coil";
    case Table::kDiscrete:
      return "discrete";
    case Table::kInput:
      return "input";
    case Table::kHolding:
      return "holding";
  }
  return "?";
}

absl::string_view TypeName(Type type) {
  switch (type) {
    case Type::kBool:
      return "bool";
    case Type::kInt16:
      return "int16";
    case Type::kUint16:
      return "uint16";
    case Type::kInt32:
      return "int32";
    case Type::kUint32:
      return "uint32";
    case Type::kInt64:
      return "int64";
    case Type::kFloat32:
      return "float32";
    case Type::kFloat64:
      return "float64";
  }
  return "?";
}

bool ParseTable(absl::string_view name, Table& table) {
  for (Table t : {Table::kCoil, Table::kDiscrete, Table::kInput, Table::kHolding}) {
    if (TableName(t) == name) {
      table = t;
      return true;
    }
  }
  return false;
}

bool ParseType(absl::string_view name, Type& type) {
  for (Type t : {Type::kBool, Type::kInt16, Type::kUint16, Type::kInt32, Type::kUint32,
                 Type::kInt64, Type::kFloat32, Type::kFloat64}) {
    if (TypeName(t) == name) {
      type = t;
      return true;
    }
  }
  return false;
}

double Decode(const Location& location, const uint16_t* registers) {
  if (location.type == Type::kBool) return registers[0] != 0 ? 1 : 0;
  const uint64_t bits = Gather(location, registers);
  double raw = 0;
  switch (location.type) {
    case Type::kInt16:
      raw = static_cast<int16_t>(bits);
      break;
    case Type::kUint16:
      raw = static_cast<uint16_t>(bits);
      break;
    case Type::kInt32:
      raw = static_cast<int32_t>(bits);
      break;
    case Type::kUint32:
      raw = static_cast<uint32_t>(bits);
      break;
    case Type::kInt64:
      raw = static_cast<double>(static_cast<int64_t>(bits));
      break;
    case Type::kFloat32: {
      const uint32_t narrow = static_cast<uint32_t>(bits);
      float value;
      std::memcpy(&value, &narrow, sizeof value);
      raw = value;
      break;
    }
    case Type::kFloat64:
      std::memcpy(&raw, &bits, sizeof raw);
      break;
    case Type::kBool:
      break;
  }
  return raw * location.scale + location.offset;
}

absl::StatusOr<std::vector<uint16_t>> Encode(const Location& location, double value) {
  if (location.type == Type::kBool)
    return std::vector<uint16_t>{value != 0 ? uint16_t{1} : uint16_t{0}};
  double raw = (value - location.offset) / location.scale;
  const bool is_float = location.type == Type::kFloat32 || location.type == Type::kFloat64;
  if (!is_float) raw = std::nearbyint(raw);
  if (!std::isfinite(raw) || raw < RawMin(location.type) || raw > RawMax(location.type)) {
    return absl::OutOfRangeError(
        absl::StrCat(value, " does not fit a ", TypeName(location.type), " register value"));
  }
  uint64_t bits = 0;
  switch (location.type) {
    case Type::kInt16:
      bits = static_cast<uint16_t>(static_cast<int16_t>(raw));
      break;
    case Type::kUint16:
      bits = static_cast<uint16_t>(raw);
      break;
    case Type::kInt32:
      bits = static_cast<uint32_t>(static_cast<int32_t>(raw));
      break;
    case Type::kUint32:
      bits = static_cast<uint32_t>(raw);
      break;
    case Type::kInt64:
      bits = static_cast<uint64_t>(static_cast<int64_t>(raw));
      break;
    case Type::kFloat32: {
      const float narrow = static_cast<float>(raw);
      uint32_t word;
      std::memcpy(&word, &narrow, sizeof word);
      bits = word;
      break;
    }
    case Type::kFloat64:
      std::memcpy(&bits, &raw, sizeof bits);
      break;
    case Type::kBool:
      break;
  }
  return Scatter(location, bits);
}

std::vector<Span> PlanReads(std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.table != b.table ? a.table < b.table : a.address < b.address;
  });
  std::vector<Span> requests;
  for (const Span& span : spans) {
    if (!requests.empty()) {
      Span& last = requests.back();
      const int limit = IsBitTable(span.table) ? kMaxReadBits : kMaxReadRegisters;
      const int last_end = last.address + last.count;
      const int end = std::max(last_end, span.address + span.count);
      if (last.table == span.table && span.address <= last_end && end - last.address <= limit) {
        last.count = end - last.address;
        continue;
      }
    }
    requests.push_back(span);
  }
  return requests;
}

}  // namespace nb::device::modbus
