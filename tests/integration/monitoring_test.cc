// The monitoring that ships with Northbound is checked against the real thing: the alert
// and recording rules pass promtool's checks and unit tests, every metric the Grafana
// dashboard and the rules name is exported by a running stack, every family the stack
// exports has a panel, and every /metrics page is clean by `promtool check metrics`.
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/mosquitto.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {
namespace {

const std::string kRules =
    std::string(NB_SOURCE_DIR) + "/k8s/components/monitoring/prometheus-rules.yaml";
const std::string kRulesTest = std::string(NB_SOURCE_DIR) + "/tests/monitoring/rules_test.yaml";
const std::string kDashboard = std::string(NB_SOURCE_DIR) + "/k8s/base/grafana-dashboard.json";

// The PrometheusRule's spec as a plain rules file, where promtool wants it.
std::string ExtractRules(const TempDir& dir) {
  const std::string rules = dir.File("rules.yaml");
  const CommandResult extracted = RunCommand(absl::StrCat(
      "/usr/bin/python3 -c 'import sys, yaml; "
      "yaml.safe_dump(yaml.safe_load(open(sys.argv[1]))[\"spec\"], open(sys.argv[2], \"w\"))' ",
      kRules, " ", rules, " 2>&1"));
  EXPECT_EQ(extracted.exit_status, 0) << extracted.output;
  return rules;
}

// Metric names (not recording rules, which hold a ':') an expression file mentions,
// histogram series mapped to their family.
std::set<std::string> MetricsNamedIn(const std::string& path) {
  const std::string text = ReadFile(path);
  std::set<std::string> names;
  const std::regex metric(R"(\b(northbound_[a-z0-9_]+|process_[a-z0-9_]+)\b)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), metric);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1];
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        name.resize(name.size() - suffix.size());
      }
    }
    names.insert(name);
  }
  return names;
}

TEST(MonitoringTest, RulesPassPromtoolChecksAndUnitTests) {
  TempDir dir;
  const std::string rules = ExtractRules(dir);
  const CommandResult check =
      RunCommand(absl::StrCat(NB_PROMTOOL, " check rules ", rules, " 2>&1"));
  EXPECT_EQ(check.exit_status, 0) << check.output;
  std::ofstream(dir.File("rules_test.yaml")) << ReadFile(kRulesTest);
  const CommandResult test =
      RunCommand(absl::StrCat(NB_PROMTOOL, " test rules ", dir.File("rules_test.yaml"), " 2>&1"));
  EXPECT_EQ(test.exit_status, 0) << test.output;
}

// A fleet with an MQTT and a Modbus device, so device-service exports the drivers'
// families too. Nothing listens where they point: the devices stay offline, which is all
// the exposition needs.
std::string DriverFleet(const TempDir& dir) {
  const std::string path = dir.File("fleet.yaml");
  std::ofstream(path) << absl::StrCat(R"(drivers:
  mqtt:
    brokers:
      - {name: plant, uri: "mqtt://127.0.0.1:)",
                                      FreeLoopbackPort(), R"("}
products:
  - key: sensor
    properties:
      - {id: temperature, type: float, access: r}
devices:
  - {key: sim1, product: sensor}
  - {key: mqtt1, product: sensor, driver: mqtt, settings: {broker: plant}}
  - key: modbus1
    product: sensor
    driver: modbus
    settings:
      endpoint: "127.0.0.1:)",
                                      FreeLoopbackPort(), R"("
      registers: {temperature: {table: input, address: 0, type: float32}}
)");
  return path;
}

TEST(MonitoringTest, EveryMetricTheDashboardAndRulesNameIsExportedAndCleanForPromtool) {
  TempDir dir;
  Stack stack(StackOptions{.fleet = DriverFleet(dir)});
  ASSERT_TRUE(stack.started()) << stack.logs();
  std::set<std::string> exported;
  for (ServiceProcess* service : {&stack.frontend(), &stack.device(), &stack.auth()}) {
    const HttpResult scrape = HttpGet(service->port("metrics_port"), "/metrics");
    ASSERT_EQ(scrape.status, 200);
    std::ofstream(dir.File("scrape.txt")) << scrape.body;
    const CommandResult check =
        RunCommand(absl::StrCat(NB_PROMTOOL, " check metrics < ", dir.File("scrape.txt"), " 2>&1"));
    EXPECT_EQ(check.exit_status, 0) << check.output;
    const std::regex type_line(R"(# TYPE ([a-z0-9_]+) )");
    for (auto it = std::sregex_iterator(scrape.body.begin(), scrape.body.end(), type_line);
         it != std::sregex_iterator(); ++it) {
      exported.insert((*it)[1]);
    }
  }
  for (const std::string& file : {kDashboard, kRules}) {
    const std::set<std::string> named = MetricsNamedIn(file);
    EXPECT_FALSE(named.empty()) << file;
    for (const std::string& name : named) {
      EXPECT_TRUE(exported.count(name))
          << file << " names " << name << ", which no service exports";
    }
  }
  // And the other way: every family of Northbound's and every process metric has a panel.
  const std::set<std::string> on_dashboard = MetricsNamedIn(kDashboard);
  for (const std::string& name : exported) {
    if (name.rfind("northbound_", 0) == 0 || name.rfind("process_", 0) == 0) {
      EXPECT_TRUE(on_dashboard.count(name)) << name << " is exported but on no dashboard panel";
    }
  }
  EXPECT_TRUE(exported.count("northbound_mqtt_broker_connected")) << "the MQTT driver's families";
  EXPECT_TRUE(exported.count("northbound_modbus_requests_total")) << "the Modbus driver's families";
}

}  // namespace
}  // namespace nb::testing
