// The load generator runs against a real stack and against the reference server of
// scripts/bench (briefly: a check of the harness, not a benchmark).
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {
namespace {

TEST(LoadGeneratorSmokeTest, EveryScenarioRunsAndReports) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  for (const std::string scenario : {"read", "multi", "events", "idle"}) {
    const CommandResult result = RunCommand(
        absl::StrCat(NB_LOAD_GENERATOR_BIN, " --port=", stack.ws_port(), " --token=", token,
                     " --connections=5 --seconds=1 --scenario=", scenario,
                     " --frontend_pid=", stack.frontend().process().pid()));
    EXPECT_EQ(result.exit_status, 0) << result.output;
    EXPECT_NE(result.output.find("connected=5"), std::string::npos) << result.output;
    const char* figure = scenario == "events" ? "), dropped before them: "
                         : scenario == "idle" ? "KiB per connection"
                                              : "p99=";
    EXPECT_NE(result.output.find(figure), std::string::npos) << result.output;
  }
}

// Several requests in flight per connection, CPU and context switches per request read
// from /proc, and the JSON line scripts/bench collects: against Northbound and against the
// reference, as scripts/bench runs them side by side.
TEST(LoadGeneratorSmokeTest, InFlightScenarioMeasuresProcessesAgainstTheReference) {
  // As scripts/bench runs it: the per-connection rate limit out of the way.
  Stack stack(
      StackOptions{.frontend_flags = {"--frames_per_second=1000000", "--frame_burst=1000000"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  TempDir dir;
  ServiceProcess reference =
      ServiceProcess::Start(NB_REFERENCE_SERVER_BIN, dir.path(), "reference");
  ASSERT_TRUE(reference.started()) << reference.log();
  const std::string json = dir.File("results.jsonl");
  const std::string measured =
      absl::StrCat(" --measure=ws-frontend:", stack.frontend().process().pid(),
                   ",device-service:", stack.device().process().pid());
  for (const auto& [label, port, measure] :
       {std::tuple<std::string, int, std::string>{"northbound", stack.ws_port(), measured},
        {"reference", reference.port("http_port"),
         absl::StrCat(" --measure=reference:", reference.process().pid())}}) {
    const CommandResult result = RunCommand(absl::StrCat(
        NB_LOAD_GENERATOR_BIN, " --port=", port, " --token=", stack.FullToken(),
        " --connections=4 --in_flight=4 --seconds=1 --label=", label, " --json=", json, measure));
    EXPECT_EQ(result.exit_status, 0) << result.output;
    EXPECT_NE(result.output.find("in_flight=4 connected=4"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("context switches per request"), std::string::npos)
        << result.output;
  }
  const std::string lines = ReadFile(json);
  EXPECT_NE(lines.find(R"("label":"northbound","scenario":"read","connections":4,"in_flight":4)"),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find(R"("ws-frontend":{"cpu_us_per_op":)"), std::string::npos) << lines;
  EXPECT_NE(lines.find(R"("load-generator":{"cpu_us_per_op":)"), std::string::npos) << lines;
  EXPECT_NE(lines.find(R"("label":"reference")"), std::string::npos) << lines;
}

}  // namespace
}  // namespace nb::testing
