#include "device-service/src/event_bus.h"

#include <atomic>

#include "gtest/gtest.h"

namespace nb::device {
namespace {

devicepb::DeviceEvent Event(const std::string& topic, int n) {
  devicepb::DeviceEvent event;
  event.set_topic(topic);
  event.set_timestamp_ms(n);
  return event;
}

TEST(EventBusTest, DeliversOnlyMatchingTopics) {
  EventBus bus;
  std::atomic<int> wakes{0};
  auto subscription = std::make_shared<Subscription>(*TopicPattern::Parse("/device/p/*/online"), 16,
                                                     [&] { ++wakes; });
  bus.Add(subscription);
  bus.Publish(Event("/device/p/d1/online", 1));
  bus.Publish(Event("/device/p/d1/offline", 2));
  bus.Publish(Event("/device/q/d1/online", 3));
  devicepb::DeviceEvent out;
  ASSERT_TRUE(subscription->Take(out));
  EXPECT_EQ(out.topic(), "/device/p/d1/online");
  EXPECT_FALSE(subscription->Take(out));
  EXPECT_EQ(wakes.load(), 1);
}

TEST(EventBusTest, FullQueueDropsOldestAndReportsTheCount) {
  EventBus bus;
  int dropped_total = 0;
  bus.on_dropped = [&](int n) { dropped_total += n; };
  auto subscription =
      std::make_shared<Subscription>(*TopicPattern::Parse("/device/p/d/**"), 3, nullptr);
  bus.Add(subscription);
  for (int i = 0; i < 10; ++i) bus.Publish(Event("/device/p/d/online", i));
  EXPECT_EQ(subscription->queued(), 3u);
  EXPECT_EQ(dropped_total, 7);
  devicepb::DeviceEvent out;
  ASSERT_TRUE(subscription->Take(out));
  EXPECT_EQ(out.timestamp_ms(), 7);  // The newest three survive.
  EXPECT_EQ(out.dropped_before(), 7u);
  ASSERT_TRUE(subscription->Take(out));
  EXPECT_EQ(out.dropped_before(), 0u);
}

TEST(EventBusTest, RemovedSubscriptionGetsNothing) {
  EventBus bus;
  auto subscription =
      std::make_shared<Subscription>(*TopicPattern::Parse("/device/p/d/**"), 3, nullptr);
  bus.Add(subscription);
  bus.Remove(subscription.get());
  bus.Publish(Event("/device/p/d/online", 1));
  EXPECT_EQ(subscription->queued(), 0u);
  EXPECT_EQ(bus.size(), 0u);
}

}  // namespace
}  // namespace nb::device
