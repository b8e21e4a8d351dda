#include "common/flags.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, flags_test_port, 7, "A flag for this test.");
ABSL_FLAG(std::string, flags_test_name, "x", "A flag for this test.");

namespace nb {
namespace {

TEST(FlagsTest, EnvironmentNameIsUpperCaseWithPrefix) {
  EXPECT_EQ(FlagEnvironmentName("grpc_port"), "NB_GRPC_PORT");
}

TEST(FlagsTest, EnvironmentSetsFlag) {
  setenv("NB_FLAGS_TEST_PORT", "4242", 1);
  setenv("NB_FLAGS_TEST_NAME", "from-env", 1);
  ASSERT_TRUE(ApplyFlagEnvironment().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_flags_test_port), 4242);
  EXPECT_EQ(absl::GetFlag(FLAGS_flags_test_name), "from-env");
  unsetenv("NB_FLAGS_TEST_PORT");
  unsetenv("NB_FLAGS_TEST_NAME");
}

TEST(FlagsTest, BadEnvironmentValueNamesTheVariable) {
  setenv("NB_FLAGS_TEST_PORT", "not-a-number", 1);
  const absl::Status status = ApplyFlagEnvironment();
  unsetenv("NB_FLAGS_TEST_PORT");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("NB_FLAGS_TEST_PORT"), std::string::npos) << status;
}

TEST(FlagsTest, PortRange) {
  EXPECT_TRUE(ValidatePort("p", 0).ok());
  EXPECT_TRUE(ValidatePort("p", 65535).ok());
  EXPECT_FALSE(ValidatePort("p", -1).ok());
  const absl::Status status = ValidatePort("grpc_port", 70000);
  EXPECT_NE(status.message().find("--grpc_port"), std::string::npos);
}

}  // namespace
}  // namespace nb
