#include "common/ports_file.h"

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace nb {
namespace {

TEST(PortsFileTest, WritesJsonObjectOfPorts) {
  testing::TempDir dir;
  ASSERT_TRUE(WritePortsFile(dir.File("p.json"), {{"grpc_port", 123}, {"metrics_port", 456}}).ok());
  const auto ports = boost::json::parse(testing::ReadFile(dir.File("p.json"))).as_object();
  EXPECT_EQ(ports.at("grpc_port").as_int64(), 123);
  EXPECT_EQ(ports.at("metrics_port").as_int64(), 456);
}

TEST(PortsFileTest, EmptyPathDoesNothing) { EXPECT_TRUE(WritePortsFile("", {{"a", 1}}).ok()); }

TEST(PortsFileTest, UnwritableDirectoryIsAnError) {
  EXPECT_FALSE(WritePortsFile("/nonexistent-dir/p.json", {{"a", 1}}).ok());
}

}  // namespace
}  // namespace nb
