#include "common/metrics.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "tests/support/http_get.h"

namespace nb {
namespace {

TEST(MetricsTest, NameHelperFollowsConvention) {
  EXPECT_EQ(MetricName("frontend", "connections"), "northbound_frontend_connections");
  EXPECT_EQ(MetricName("device", "command_latency", "seconds"),
            "northbound_device_command_latency_seconds");
  EXPECT_EQ(MetricName("auth", "validations", "", true), "northbound_auth_validations_total");
}

TEST(MetricsTest, BucketsAreSortedAndCoverMicrosecondsToSeconds) {
  const auto& buckets = LatencyBuckets();
  EXPECT_TRUE(std::is_sorted(buckets.begin(), buckets.end()));
  EXPECT_LE(buckets.front(), 0.0001);
  EXPECT_GE(buckets.back(), 10);
}

TEST(MetricsTest, ServesRegisteredFamiliesOnItsOwnPort) {
  auto metrics = Metrics::Start("127.0.0.1", 0);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  auto& family = prometheus::BuildCounter()
                     .Name("northbound_test_things_total")
                     .Help("Things counted by the test.")
                     .Register((*metrics)->registry());
  family.Add({{"kind", "a"}}).Increment(3);
  const testing::HttpResult result = testing::HttpGet((*metrics)->port(), "/metrics");
  EXPECT_EQ(result.status, 200);
  EXPECT_NE(result.body.find("northbound_test_things_total{kind=\"a\"} 3"), std::string::npos)
      << result.body;
}

TEST(MetricsTest, TakenPortIsAClearError) {
  auto first = Metrics::Start("127.0.0.1", 0);
  ASSERT_TRUE(first.ok());
  auto second = Metrics::Start("127.0.0.1", (*first)->port());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("metrics"), std::string::npos) << second.status();
}

}  // namespace
}  // namespace nb
