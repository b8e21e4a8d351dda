// The load generator runs against a real stack (briefly: a check of the harness, not a
// benchmark).
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"

namespace nb::testing {
namespace {

TEST(LoadGeneratorSmokeTest, EveryScenarioRunsAndReports) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  for (const char* scenario : {"read", "multi", "events"}) {
    const CommandResult result = RunCommand(
        absl::StrCat(NB_LOAD_GENERATOR_BIN, " --port=", stack.ws_port(), " --token=", token,
                     " --connections=5 --seconds=1 --scenario=", scenario,
                     " --frontend_pid=", stack.frontend().process().pid()));
    EXPECT_EQ(result.exit_status, 0) << result.output;
    EXPECT_NE(result.output.find("connected=5"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(std::string(scenario) == "events" ? "events received" : "p99="),
              std::string::npos)
        << result.output;
  }
}

}  // namespace
}  // namespace nb::testing
