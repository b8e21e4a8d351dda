// The operator console (docs/console.md) in Debian's Chromium against the real stack on the
// demo fleet: tests/console/console_test.mjs drives the page the way a user does.

#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/integration/stack.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {
namespace {

// Runs tests/console/console_test.mjs in `scenario` against `stack`; its output on failure.
void ExpectConsolePasses(Stack& stack, const std::string& scenario, const std::string& extra_env) {
  // Screenshots stay in the build tree for whoever looks at a run.
  const CommandResult result = RunCommand(absl::StrCat(
      "cd ", NB_CONSOLE_TEST_DIR, " && NB_CONSOLE_URL=http://127.0.0.1:", stack.ws_port(),
      "/console/ NB_TOKEN=", stack.FullToken(), " NB_ARTIFACTS=", NB_CONSOLE_ARTIFACTS,
      " NB_CHROMIUM=", NB_CHROMIUM, " NB_CONSOLE_SCENARIO=", scenario, " ", extra_env,
      " timeout 180 ", NB_NODE, " console_test.mjs 2>&1"));
  EXPECT_EQ(result.exit_status, 0) << result.output << stack.logs();
  EXPECT_NE(result.output.find("console test passed"), std::string::npos) << result.output;
}

TEST(ConsoleTest, AUserSignsInSeesTheFleetCommandsADeviceAndWatchesItLive) {
  StackOptions options;
  options.fleet = NB_DEMO_FLEET;
  Stack stack(options);
  ASSERT_TRUE(stack.started()) << stack.logs();
  ExpectConsolePasses(stack, "demo", "");
}

// Thousands of devices: the list pages through the API, keeps only the visible rows in the
// page, scrolls to the last device and filters by state.
TEST(ConsoleTest, AFleetOfThousandsStaysUsable) {
  constexpr int kDevices = 3000;
  TempDir dir;
  {
    std::ofstream fleet(dir.File("fleet.yaml"));
    fleet << "products:\n  - key: big-product\n    properties:\n"
             "      - {id: temperature, type: float, unit: \"°C\", access: rw}\n"
             "devices:\n";
    for (int i = 1; i <= kDevices; ++i) {
      // Every tenth device is offline; the rest report every 10 s.
      fleet << "  - {key: dev" << i << ", product: big-product, settings: "
            << (i % 10 == 0
                    ? "{online: false}"
                    : "{latency_ms: 0, report_interval_ms: 10000, initial: {temperature: 20}}")
            << "}\n";
    }
  }
  StackOptions options;
  options.fleet = dir.File("fleet.yaml");
  Stack stack(options);
  ASSERT_TRUE(stack.started()) << stack.logs();
  ExpectConsolePasses(stack, "large", absl::StrCat("NB_DEVICES=", kDevices));
}

}  // namespace
}  // namespace nb::testing
