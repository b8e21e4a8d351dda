// The operator console (docs/console.md) in Debian's Chromium against the real stack on the
// demo fleet: tests/console/console_test.mjs drives the page the way a user does.

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/stack.h"
#include "tests/support/process.h"

namespace nb::testing {
namespace {

TEST(ConsoleTest, AUserSignsInSeesTheFleetCommandsADeviceAndWatchesItLive) {
  StackOptions options;
  options.fleet = NB_DEMO_FLEET;
  Stack stack(options);
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();

  // Screenshots stay in the build tree for whoever looks at a run (CI keeps them there).
  const std::string artifacts = NB_CONSOLE_ARTIFACTS;
  const CommandResult result = RunCommand(absl::StrCat(
      "cd ", NB_CONSOLE_TEST_DIR, " && NB_CONSOLE_URL=http://127.0.0.1:", stack.ws_port(),
      "/console/ NB_TOKEN=", token, " NB_ARTIFACTS=", artifacts, " NB_CHROMIUM=", NB_CHROMIUM,
      " timeout 180 ", NB_NODE, " console_test.mjs 2>&1"));
  EXPECT_EQ(result.exit_status, 0) << result.output << stack.logs();
  EXPECT_NE(result.output.find("console test passed"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace nb::testing
