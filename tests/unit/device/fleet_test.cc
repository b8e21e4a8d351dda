#include "device-service/src/fleet.h"

#include <fstream>
#include <iterator>

#include "device-service/src/driver_registry.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nb::device {
namespace {

std::string ErrorOf(const std::string& yaml) {
  absl::StatusOr<Fleet> fleet = ParseFleet(yaml, "fleet.yaml");
  return fleet.ok() ? "" : std::string(fleet.status().message());
}

constexpr char kValid[] = R"(
products:
  - key: p
    properties:
      - {id: temperature, type: float, min: -40, max: 125, unit: "°C", access: rw}
      - {id: mode, type: enum, values: [a, b]}
    functions:
      - id: calibrate
        inputs: [{id: reference, type: float, required: true}]
        outputs: [{id: offset, type: float}]
    events:
      - id: overheat
        fields: [{id: temperature, type: float}]
devices:
  - {key: d1, product: p, driver: sim, settings: {latency_ms: 5}}
  - {key: d2, product: p}
)";

TEST(FleetTest, ParsesProductsAndDevices) {
  absl::StatusOr<Fleet> fleet = ParseFleet(kValid, "fleet.yaml");
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  ASSERT_EQ(fleet->products.size(), 1u);
  const ThingModel& model = *fleet->products[0];
  ASSERT_NE(model.FindProperty("temperature"), nullptr);
  EXPECT_EQ(model.FindProperty("temperature")->access(), devicepb::READ_WRITE);
  EXPECT_EQ(model.FindProperty("temperature")->spec().unit(), "°C");
  EXPECT_EQ(model.FindProperty("mode")->access(), devicepb::READ_ONLY);
  EXPECT_EQ(model.FindFunction("calibrate")->inputs(0).required(), true);
  EXPECT_NE(model.FindEvent("overheat"), nullptr);
  ASSERT_EQ(fleet->devices.size(), 2u);
  EXPECT_EQ(fleet->devices[1].driver, "sim");
  EXPECT_EQ(fleet->devices[0].location, "fleet.yaml:15");
}

TEST(FleetTest, ErrorsNameTheLineAndTheProblem) {
  EXPECT_EQ(ErrorOf("products:\n  - key: p\n    properties:\n      - {id: t, type: flaot}\n"),
            "fleet.yaml:4: property 't': unknown type 'flaot' (use int, long, float, double, bool, "
            "string, enum or date)");
  EXPECT_EQ(ErrorOf("products:\n  - key: p\ndevices:\n  - {key: d, product: q}\n"),
            "fleet.yaml:4: device 'd': unknown product 'q'");
  EXPECT_EQ(
      ErrorOf(
          "products:\n  - key: p\n    properties:\n      - {id: t, type: int, min: 5, max: 1}\n"),
      "fleet.yaml:4: property 't': min is greater than max");
  EXPECT_EQ(
      ErrorOf("products:\n  - key: p\n    properties:\n      - {id: t, type: int, access: w}\n"),
      "fleet.yaml:4: property 't': access must be r or rw, not 'w'");
  EXPECT_EQ(ErrorOf("products:\n  - key: p\n    properties:\n      - {id: t, type: enum}\n"),
            "fleet.yaml:4: property 't': an enum needs a non-empty 'values' list");
}

TEST(FleetTest, DuplicatesAndMissingKeysAreErrors) {
  EXPECT_NE(ErrorOf("products:\n  - key: p\n  - key: p\n").find("fleet.yaml:3: duplicate product"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(
          "products:\n  - key: p\ndevices:\n  - {key: d, product: p}\n  - {key: d, product: p}\n")
          .find("fleet.yaml:5: duplicate device 'd'"),
      std::string::npos);
  EXPECT_NE(ErrorOf("products:\n  - name: nameless\n").find("'key' is required"),
            std::string::npos);
  EXPECT_NE(ErrorOf("products:\n  - key: 'bad key/with slash'\n").find("must be 1..64"),
            std::string::npos);
  EXPECT_NE(ErrorOf("devices: []\n").find("'products' must be a non-empty list"),
            std::string::npos);
}

TEST(FleetTest, DriverNamesAndSettingsAreCheckedAtLoad) {
  EXPECT_EQ(ErrorOf("products:\n  - key: p\ndevices:\n  - key: d\n    product: p\n"
                    "    driver: modbuss\n"),
            "fleet.yaml:6: device 'd': unknown driver 'modbuss' (available: modbus, mqtt, sim)");
  EXPECT_EQ(ErrorOf("products:\n  - key: p\ndevices:\n  - {key: d, product: p, settings: "
                    "{latency_ms: -1}}\n"),
            "fleet.yaml:4: device 'd': latency_ms must be 0..3600000");
  EXPECT_EQ(ErrorOf("products:\n  - key: p\ndevices:\n  - {key: d, product: p, settings: 7}\n"),
            "fleet.yaml:4: device 'd': settings must be a mapping");
  EXPECT_EQ(ErrorOf("products:\n  - key: p\ndrivers:\n  sim: {x: 1}\ndevices:\n"
                    "  - {key: d, product: p}\n"),
            "fleet.yaml:4: driver 'sim' takes no fleet-wide settings");
  EXPECT_EQ(ErrorOf("products:\n  - key: p\ndrivers:\n  bogus: {}\n"),
            "fleet.yaml:4: drivers: unknown driver 'bogus' (available: modbus, mqtt, sim)");
}

TEST(FleetTest, YamlSyntaxErrorNamesTheLine) {
  const std::string error = ErrorOf("products:\n  - key: p\n    properties: [\n");
  EXPECT_EQ(error.rfind("fleet.yaml:", 0), 0u) << error;
}

TEST(FleetTest, DemoFleetLoads) {
  absl::StatusOr<Fleet> fleet = LoadFleetFile(NB_DEMO_FLEET);
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_GE(fleet->products.size(), 2u);
}

// The example fleet of k8s/overlays/production loads with the built-in drivers. Its
// broker password lives in a Secret mounted at /run/secrets/mqtt; here a file of the test's
// stands in for it.
TEST(FleetTest, ProductionExampleFleetLoads) {
  std::ifstream in(NB_PRODUCTION_FLEET);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string secret = "/run/secrets/mqtt/password";
  const size_t at = text.find(secret);
  ASSERT_NE(at, std::string::npos);
  testing::TempDir dir;
  std::ofstream(dir.File("password")) << "broker-password\n";
  text.replace(at, secret.size(), dir.File("password"));
  absl::StatusOr<Fleet> fleet = ParseFleet(text, "fleet.yaml", DriverRegistry::Builtin());
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_EQ(fleet->products.size(), 2u);
}

}  // namespace
}  // namespace nb::device
