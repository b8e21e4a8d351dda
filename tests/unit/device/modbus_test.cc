// The modbus driver's pure parts: how values sit in registers, how reads are grouped into
// requests, and which fleet mappings are refused (with their line).
#include "device-service/src/drivers/modbus_codec.h"
#include "device-service/src/fleet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nb::device {
namespace {

using modbus::ByteOrder;
using modbus::Location;
using modbus::Span;
using modbus::Table;
using modbus::Type;
using modbus::WordOrder;
using ::testing::ElementsAre;

Location At(Type type, WordOrder words = WordOrder::kBig, ByteOrder bytes = ByteOrder::kBig) {
  Location location;
  location.type = type;
  location.word_order = words;
  location.byte_order = bytes;
  return location;
}

// Register images written from the Modbus convention by hand (IEEE 754, big-endian).
TEST(ModbusCodecTest, LaysOutEveryTypeInEveryOrder) {
  EXPECT_THAT(*modbus::Encode(At(Type::kFloat32), 230.5), ElementsAre(0x4366, 0x8000));
  EXPECT_THAT(*modbus::Encode(At(Type::kFloat32, WordOrder::kLittle), 230.5),
              ElementsAre(0x8000, 0x4366));
  EXPECT_THAT(*modbus::Encode(At(Type::kFloat32, WordOrder::kBig, ByteOrder::kLittle), 230.5),
              ElementsAre(0x6643, 0x0080));
  EXPECT_THAT(*modbus::Encode(At(Type::kUint32, WordOrder::kLittle), 0x12345678),
              ElementsAre(0x5678, 0x1234));
  EXPECT_THAT(*modbus::Encode(At(Type::kInt16), -2), ElementsAre(0xfffe));
  EXPECT_THAT(*modbus::Encode(At(Type::kInt32), -2), ElementsAre(0xffff, 0xfffe));
  EXPECT_THAT(*modbus::Encode(At(Type::kInt64), 1), ElementsAre(0, 0, 0, 1));
  EXPECT_THAT(*modbus::Encode(At(Type::kFloat64), 1.0), ElementsAre(0x3ff0, 0, 0, 0));
  EXPECT_THAT(*modbus::Encode(At(Type::kBool), 1), ElementsAre(1));

  for (Type type : {Type::kInt16, Type::kUint16, Type::kInt32, Type::kUint32, Type::kInt64,
                    Type::kFloat32, Type::kFloat64}) {
    for (WordOrder words : {WordOrder::kBig, WordOrder::kLittle}) {
      for (ByteOrder bytes : {ByteOrder::kBig, ByteOrder::kLittle}) {
        const Location location = At(type, words, bytes);
        const double value = type == Type::kUint16 || type == Type::kUint32 ? 4660 : -4660;
        auto registers = modbus::Encode(location, value);
        ASSERT_TRUE(registers.ok());
        EXPECT_EQ(registers->size(), static_cast<size_t>(modbus::Width(type)));
        EXPECT_EQ(modbus::Decode(location, registers->data()), value)
            << modbus::TypeName(type) << static_cast<int>(words) << static_cast<int>(bytes);
      }
    }
  }
}

TEST(ModbusCodecTest, ScaleAndOffsetApplyBothWaysAndRangesAreChecked) {
  Location location = At(Type::kUint16);
  location.scale = 0.1;
  location.offset = -40;
  EXPECT_THAT(*modbus::Encode(location, 20), ElementsAre(600));  // (20 + 40) / 0.1
  const uint16_t raw = 600;
  EXPECT_DOUBLE_EQ(modbus::Decode(location, &raw), 20);
  EXPECT_FALSE(modbus::Encode(location, -41).ok());   // raw -10 is not a uint16
  EXPECT_TRUE(modbus::Encode(location, 6500).ok());   // raw 65400 fits a uint16
  EXPECT_FALSE(modbus::Encode(location, 6520).ok());  // raw 65600 does not
  EXPECT_FALSE(modbus::Encode(At(Type::kInt16), 40000).ok());
  EXPECT_THAT(*modbus::Encode(At(Type::kInt16), 2.6), ElementsAre(3));  // rounded
}

TEST(ModbusCodecTest, ReadsAreCoalescedWithinTheSpecMaxima) {
  // Adjacent and overlapping spans of one table merge; a gap or another table does not.
  EXPECT_THAT(modbus::PlanReads({{Table::kHolding, 10, 2},
                                 {Table::kHolding, 12, 1},
                                 {Table::kHolding, 0, 2},
                                 {Table::kHolding, 11, 2},
                                 {Table::kInput, 13, 1},
                                 {Table::kHolding, 20, 4}}),
              ElementsAre(Span{Table::kInput, 13, 1}, Span{Table::kHolding, 0, 2},
                          Span{Table::kHolding, 10, 3}, Span{Table::kHolding, 20, 4}));
  std::vector<Span> registers;
  for (int i = 0; i < 300; ++i) registers.push_back({Table::kInput, static_cast<uint16_t>(i), 1});
  EXPECT_THAT(modbus::PlanReads(registers),
              ElementsAre(Span{Table::kInput, 0, 125}, Span{Table::kInput, 125, 125},
                          Span{Table::kInput, 250, 50}));
  std::vector<Span> coils;
  for (int i = 0; i < 2500; ++i) coils.push_back({Table::kCoil, static_cast<uint16_t>(i), 1});
  EXPECT_THAT(modbus::PlanReads(coils),
              ElementsAre(Span{Table::kCoil, 0, 2000}, Span{Table::kCoil, 2000, 500}));
}

std::string FleetError(const std::string& registers, const std::string& functions = "") {
  const std::string yaml =
      R"(products:
  - key: meter
    properties:
      - {id: voltage, type: double, min: 0, max: 480, access: r}
      - {id: relay, type: bool, access: rw}
    functions:
      - id: reset
        outputs: [{id: voltage, type: double}]
devices:
  - key: m
    product: meter
    driver: modbus
    settings:
      endpoint: 127.0.0.1:502
      registers:
)" + registers +
      R"(      functions:
)" +
      (functions.empty() ? "        reset: {writes: [{table: coil, address: 0, value: false}]}\n"
                         : functions);
  absl::StatusOr<Fleet> fleet = ParseFleet(yaml, "fleet.yaml");
  return fleet.ok() ? "" : std::string(fleet.status().message());
}

TEST(ModbusSettingsTest, MappingErrorsNameTheirLine) {
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 0, type: float32}\n        relay: "
                       "{table: coil, address: 0}\n      pol_interval_ms: 5\n"),
            "fleet.yaml:18: device: unknown setting 'pol_interval_ms'");
  constexpr char kRelay[] = "        relay: {table: coil, address: 0}\n";
  EXPECT_EQ(FleetError(std::string("        voltage: {table: input, address: 0, type: float32}\n") +
                       kRelay),
            "");
  EXPECT_EQ(FleetError(kRelay),
            "fleet.yaml:10: device 'm': property 'voltage' of product meter has no register in "
            "settings.registers");
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 0, type: float32}\n"
                       "        relay: {table: discrete, address: 0}\n"),
            "fleet.yaml:17: property 'relay' is rw but the discrete table is read-only (use coil "
            "or holding)");
  EXPECT_EQ(FleetError("        voltage: {table: holding, address: 0, type: float32}\n"
                       "        relay: {table: coil, address: 0}\n"
                       "        current: {table: holding, address: 1}\n"),
            "fleet.yaml:18: registers: product meter has no property 'current'");
  EXPECT_EQ(FleetError("        voltage: {table: inputs, address: 0}\n" + std::string(kRelay)),
            "fleet.yaml:16: property 'voltage': table must be coil, discrete, input or holding");
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 0, type: float}\n" +
                       std::string(kRelay)),
            "fleet.yaml:16: property 'voltage': type must be bool, int16, uint16, int32, uint32, "
            "int64, float32 or float64");
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 65535, type: float32}\n" +
                       std::string(kRelay)),
            "fleet.yaml:16: property 'voltage': runs past address 65535");
  EXPECT_EQ(FleetError("        voltage: {table: coil, address: 0}\n" + std::string(kRelay)),
            "fleet.yaml:16: property 'voltage': a double property cannot live in a coil");
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 0, typ: float32}\n" +
                       std::string(kRelay)),
            "fleet.yaml:16: property 'voltage': unknown setting 'typ'");
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 0, type: float32}\n" +
                           std::string(kRelay),
                       "        reset: {writes: [{table: input, address: 0, value: 0}]}\n"),
            "fleet.yaml:19: function 'reset': writes go to coil or holding");
  EXPECT_EQ(FleetError("        voltage: {table: input, address: 0, type: float32}\n" +
                           std::string(kRelay),
                       "        reset: {writes: [{table: holding, address: 0, value: 70000}]}\n"),
            "fleet.yaml:19: function 'reset': 70000 does not fit a uint16 register value");
}

TEST(ModbusSettingsTest, InconsistentOverlapsAreRefusedAndSharedRegistersAllowed) {
  const std::string products = R"(products:
  - key: p
    properties:
      - {id: a, type: double, access: r}
      - {id: b, type: double, access: r}
devices:
  - key: d
    product: p
    driver: modbus
    settings:
      endpoint: 127.0.0.1:502
      registers:
)";
  absl::StatusOr<Fleet> same =
      ParseFleet(products +
                     "        a: {table: holding, address: 4, type: int32}\n"
                     "        b: {table: holding, address: 4, type: int32, "
                     "scale: 0.5}\n",
                 "fleet.yaml");
  EXPECT_TRUE(same.ok()) << same.status();
  absl::StatusOr<Fleet> clash =
      ParseFleet(products +
                     "        a: {table: holding, address: 4, type: int32}\n"
                     "        b: {table: holding, address: 5}\n",
                 "fleet.yaml");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "fleet.yaml:14: property 'b' overlaps the registers of property 'a' (holding 5) with "
            "a different layout");
  absl::StatusOr<Fleet> other_table =
      ParseFleet(products +
                     "        a: {table: holding, address: 4, type: int32}\n"
                     "        b: {table: input, address: 5}\n",
                 "fleet.yaml");
  EXPECT_TRUE(other_table.ok()) << other_table.status();
}

}  // namespace
}  // namespace nb::device
