#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_CODEC_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_CODEC_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// What Modbus carries, without any I/O: the four tables, how a typed value sits in 16-bit
// registers, and how reads of one unit are grouped into requests. Pure functions, shared
// by the driver and its tests.
namespace nb::device::modbus {

enum class Table { kCoil, kDiscrete, kInput, kHolding };
enum class Type { kBool, kInt16, kUint16, kInt32, kUint32, kInt64, kFloat32, kFloat64 };
// Big: the first register holds the most significant word (the usual order).
enum class WordOrder { kBig, kLittle };
// Big: each register's high byte first, as the Modbus spec sends it; little for devices
// that swap the bytes of every register.
enum class ByteOrder { kBig, kLittle };

// The spec's maxima per read request.
inline constexpr int kMaxReadRegisters = 125;
inline constexpr int kMaxReadBits = 2000;
// ... and per write request.
inline constexpr int kMaxWriteRegisters = 123;

// Where one value lives: engineering value = raw * scale + offset.
struct Location {
  Table table = Table::kHolding;
  uint16_t address = 0;
  Type type = Type::kUint16;
  WordOrder word_order = WordOrder::kBig;
  ByteOrder byte_order = ByteOrder::kBig;
  double scale = 1;
  double offset = 0;
};

bool IsBitTable(Table table);
bool IsWritable(Table table);
// Registers (or bits, for the bit tables) the value occupies.
int Width(Type type);
// The raw range of an integer type (float types: +-max).
double RawMin(Type type);
double RawMax(Type type);

absl::string_view TableName(Table table);
absl::string_view TypeName(Type type);
bool ParseTable(absl::string_view name, Table& table);
bool ParseType(absl::string_view name, Type& type);

// The engineering value of `registers` (Width(type) of them, as read).
double Decode(const Location& location, const uint16_t* registers);
// The registers that carry `value`; OUT_OF_RANGE when value, unscaled, does not fit the
// raw type (integer types are rounded to the nearest whole number).
absl::StatusOr<std::vector<uint16_t>> Encode(const Location& location, double value);

// One request's span of one table.
struct Span {
  Table table = Table::kHolding;
  uint16_t address = 0;
  int count = 1;
  bool operator==(const Span&) const = default;
};
// Merges overlapping or adjacent spans of the same table into as few requests as the
// spec's maxima allow; never reads a register no span asked for.
std::vector<Span> PlanReads(std::vector<Span> spans);

}  // namespace nb::device::modbus

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_CODEC_H_
