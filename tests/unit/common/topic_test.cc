#include "common/topic.h"

#include "common/status.h"
#include "gtest/gtest.h"

namespace nb {
namespace {

using northbound::common::v1::ErrorCode;

bool Match(const std::string& pattern, const std::string& topic) {
  absl::StatusOr<TopicPattern> parsed = TopicPattern::Parse(pattern);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() && parsed->Matches(topic);
}

TEST(TopicPatternTest, ExactTopicMatchesOnlyItself) {
  EXPECT_TRUE(Match("/device/p/d1/online", "/device/p/d1/online"));
  EXPECT_FALSE(Match("/device/p/d1/online", "/device/p/d1/offline"));
  EXPECT_FALSE(Match("/device/p/d1/online", "/device/p/d2/online"));
  EXPECT_FALSE(Match("/device/p/d1/online", "/device/p/d1/online/x"));
}

TEST(TopicPatternTest, StarMatchesExactlyOneSegment) {
  EXPECT_TRUE(Match("/device/p/*/online", "/device/p/d1/online"));
  EXPECT_TRUE(Match("/device/*/*/online", "/device/q/d9/online"));
  EXPECT_FALSE(Match("/device/p/*/online", "/device/p/d1/x/online"));
  EXPECT_TRUE(Match("/device/p/d1/message/event/*", "/device/p/d1/message/event/overheat"));
  EXPECT_FALSE(Match("/device/p/d1/message/event/*", "/device/p/d1/message/event"));
}

TEST(TopicPatternTest, DoubleStarMatchesAnyRest) {
  EXPECT_TRUE(Match("/device/p/d1/**", "/device/p/d1/online"));
  EXPECT_TRUE(Match("/device/p/d1/**", "/device/p/d1/message/property/report"));
  EXPECT_TRUE(Match("/device/p/*/message/**", "/device/p/d2/message/function/reply"));
  EXPECT_FALSE(Match("/device/p/*/message/**", "/device/p/d2/online"));
  EXPECT_FALSE(Match("/device/p/d1/**", "/device/p/d2/online"));
}

TEST(TopicPatternTest, BadPatternsAreCoded) {
  EXPECT_EQ(ErrorCodeOf(TopicPattern::Parse("/things/p/d/online").status()),
            ErrorCode::UNKNOWN_TOPIC);
  EXPECT_EQ(ErrorCodeOf(TopicPattern::Parse("device/p/d/online").status()),
            ErrorCode::UNKNOWN_TOPIC);
  EXPECT_EQ(ErrorCodeOf(TopicPattern::Parse("/device/p/d").status()), ErrorCode::UNKNOWN_TOPIC);
  EXPECT_EQ(ErrorCodeOf(TopicPattern::Parse("/device/p/**/online").status()),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorCodeOf(TopicPattern::Parse("/device/p//online").status()),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorCodeOf(TopicPattern::Parse("/device/p/d*/online").status()),
            ErrorCode::PARAMETER_ERROR);
}

TEST(SenderTopicTest, ParsesOneManyAndAll) {
  auto one = ParseSenderTopic("/device-message-sender/sagoo-product/device1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->product_key, "sagoo-product");
  EXPECT_EQ(one->device_keys, std::vector<std::string>{"device1"});
  auto many = ParseSenderTopic("/device-message-sender/p/a,b,a,c");
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->device_keys, (std::vector<std::string>{"a", "b", "c"}));
  auto all = ParseSenderTopic("/device-message-sender/p/*");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all_devices);
}

TEST(SenderTopicTest, RejectsEmptyKeysStarAmongKeysAndBadShape) {
  EXPECT_EQ(ErrorCodeOf(ParseSenderTopic("/device-message-sender/p/a,,b").status()),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorCodeOf(ParseSenderTopic("/device-message-sender/p/a,*").status()),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorCodeOf(ParseSenderTopic("/device-message-sender/p").status()),
            ErrorCode::UNKNOWN_TOPIC);
  EXPECT_EQ(ErrorCodeOf(ParseSenderTopic("/device-message-sender/p/a/b").status()),
            ErrorCode::UNKNOWN_TOPIC);
  EXPECT_EQ(ErrorCodeOf(ParseSenderTopic("/elsewhere/p/a").status()), ErrorCode::UNKNOWN_TOPIC);
}

}  // namespace
}  // namespace nb
