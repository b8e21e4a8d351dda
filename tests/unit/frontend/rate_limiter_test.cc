#include "ws-frontend/src/rate_limiter.h"

#include "gtest/gtest.h"

namespace nb::frontend {
namespace {

TEST(RateLimiterTest, BurstThenSustainedRate) {
  RateLimiter limiter(100, 200);
  const auto start = RateLimiter::Clock::now();
  int allowed = 0;
  for (int i = 0; i < 300; ++i) allowed += limiter.Allow(start) ? 1 : 0;
  EXPECT_EQ(allowed, 200);
  // One second later, 100 more.
  allowed = 0;
  for (int i = 0; i < 300; ++i) allowed += limiter.Allow(start + std::chrono::seconds(1)) ? 1 : 0;
  EXPECT_EQ(allowed, 100);
}

TEST(RateLimiterTest, NeverAccumulatesPastTheBurst) {
  RateLimiter limiter(100, 200);
  const auto later = RateLimiter::Clock::now() + std::chrono::hours(1);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) allowed += limiter.Allow(later) ? 1 : 0;
  EXPECT_EQ(allowed, 200);
}

}  // namespace
}  // namespace nb::frontend
