#include "common/metrics.h"

#include <algorithm>
#include <ctime>

#include "common/process_metrics.h"
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

TEST(MetricsTest, ServesTheStandardProcessMetrics) {
  auto metrics = Metrics::Start("127.0.0.1", 0);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string body = testing::HttpGet((*metrics)->port(), "/metrics").body;
  auto value = [&](const std::string& name) {
    const size_t at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2));
  };
  EXPECT_GE(value("process_cpu_seconds_total"), 0) << body;
  // This test binary is larger than a MiB and smaller than 4 GiB.
  EXPECT_GT(value("process_resident_memory_bytes"), 1 << 20) << body;
  EXPECT_LT(value("process_resident_memory_bytes"), 4.0 * (1 << 30)) << body;
  EXPECT_GT(value("process_virtual_memory_bytes"), value("process_resident_memory_bytes"));
  // stdin, stdout, stderr and the metrics listener at least.
  EXPECT_GE(value("process_open_fds"), 4) << body;
  EXPECT_GE(value("process_max_fds"), value("process_open_fds"));
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(value("process_start_time_seconds"), now - 3600) << body;
  EXPECT_LE(value("process_start_time_seconds"), now + 1) << body;
}

TEST(ProcessMetricsTest, ParsesProcStatEvenWithSpacesAndParenthesesInTheName) {
  const std::string stat =
      "4242 (my (odd) name) S 1 4242 4242 0 -1 4194304 500 0 0 0 120 30 0 0 20 0 7 0 "
      "98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  const std::optional<ProcStat> parsed = ParseProcStat(stat);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->utime_ticks, 120);
  EXPECT_EQ(parsed->stime_ticks, 30);
  EXPECT_EQ(parsed->start_ticks, 98765);
  EXPECT_EQ(parsed->vsize_bytes, 123456789);
  EXPECT_EQ(parsed->rss_pages, 2048);
  EXPECT_FALSE(ParseProcStat("4242 (truncated) S 1 2"));
  EXPECT_FALSE(ParseProcStat("no parentheses at all"));
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
