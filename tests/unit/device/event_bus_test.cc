#include "device-service/src/event_bus.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "boost/json/parse.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace nb::device {
namespace {

devicepb::DeviceEvent Event(const std::string& topic, int n) {
  devicepb::DeviceEvent event;
  event.set_topic(topic);
  event.set_timestamp_ms(n);
  return event;
}

// A subscription to `pattern`, on the bus.
std::shared_ptr<Subscription> Subscribe(EventBus& bus, const std::string& pattern,
                                        size_t capacity = 100) {
  auto subscription =
      std::make_shared<Subscription>(*TopicPattern::Parse(pattern), capacity, nullptr);
  bus.Add(subscription);
  return subscription;
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
  auto subscription = Subscribe(bus, "/device/p/d/**", 3);
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

TEST(EventBusTest, PermissionsNarrowWhatASubscriptionGetsWhileEventsFlow) {
  namespace authpb = northbound::auth::v1;
  EventBus bus;
  auto subscription = Subscribe(bus, "/device/p/*/online", 100000);
  auto only_d1 = std::make_shared<authpb::Permissions>();
  only_d1->add_operations(authpb::SUBSCRIBE_EVENTS);
  auto* grant = only_d1->add_products();
  grant->set_product_key("p");
  grant->add_device_keys("d1");
  auto event = [](const std::string& device, int n) {
    devicepb::DeviceEvent e = Event("/device/p/" + device + "/online", n);
    e.set_product_key("p");
    e.set_device_key(device);
    return e;
  };
  // A revocation narrows the subscription on one thread while another publishes.
  std::atomic<bool> narrowed{false};
  std::thread publisher([&] {
    for (int i = 0; i < 2000; ++i) {
      bus.Publish(event(i % 2 == 0 ? "d1" : "d2", i));
      if (i == 1000) narrowed = true;
    }
  });
  while (!narrowed) std::this_thread::yield();
  subscription->SetPermissions(only_d1);
  publisher.join();
  bus.Publish(event("d2", 5000));
  bus.Publish(event("d1", 5001));
  devicepb::DeviceEvent out;
  devicepb::DeviceEvent last;
  int delivered = 0;
  bool d2_after_change = false;
  while (subscription->Take(out)) {
    last = out;
    ++delivered;
    d2_after_change |= out.timestamp_ms() == 5000;
  }
  // Everything before the change (half of it d2; the publisher may even finish first), d1
  // only after it.
  EXPECT_GT(delivered, 500);
  EXPECT_LE(delivered, 2001);
  EXPECT_FALSE(d2_after_change);
  EXPECT_EQ(last.timestamp_ms(), 5001);
}

devicepb::DeviceEvent DeviceEventOf(const std::string& product, const std::string& device, int n) {
  devicepb::DeviceEvent event = Event("/device/" + product + "/" + device + "/online", n);
  event.set_product_key(product);
  event.set_device_key(device);
  return event;
}

// The timestamps of the events queued for `subscription`, taken off its queue.
std::vector<int64_t> Drain(Subscription& subscription) {
  std::vector<int64_t> out;
  devicepb::DeviceEvent event;
  while (subscription.Take(event)) out.push_back(event.timestamp_ms());
  return out;
}

TEST(EventBusTest, SubscriptionsWithOnePatternEachGetItsEventsAndLeaveAlone) {
  EventBus bus;
  auto make = [&](const std::string& pattern) { return Subscribe(bus, pattern); };
  // Two patterns, their subscriptions added in turns, the narrower first.
  auto d1 = make("/device/p/d1/online");
  auto p1 = make("/device/p/*/online");
  auto d2 = make("/device/p/d1/online");
  auto p2 = make("/device/p/*/online");
  auto p3 = make("/device/p/*/online");
  EXPECT_EQ(bus.size(), 5u);
  bus.Publish(DeviceEventOf("p", "d1", 1));
  bus.Publish(DeviceEventOf("p", "d2", 2));
  bus.Publish(DeviceEventOf("q", "d1", 3));
  for (auto* s : {&p1, &p2, &p3}) EXPECT_EQ(Drain(**s), (std::vector<int64_t>{1, 2}));
  for (auto* s : {&d1, &d2}) EXPECT_EQ(Drain(**s), (std::vector<int64_t>{1}));

  // One of a pattern's subscriptions leaves: the others of that pattern go on.
  bus.Remove(p2.get());
  bus.Remove(d1.get());
  bus.Remove(d1.get());  // Twice: nothing more leaves.
  EXPECT_EQ(bus.size(), 3u);
  bus.Publish(DeviceEventOf("p", "d1", 4));
  EXPECT_EQ(Drain(*p1), (std::vector<int64_t>{4}));
  EXPECT_EQ(Drain(*p3), (std::vector<int64_t>{4}));
  EXPECT_EQ(Drain(*d2), (std::vector<int64_t>{4}));
  EXPECT_TRUE(Drain(*p2).empty());
  EXPECT_TRUE(Drain(*d1).empty());

  // The last of a pattern leaves, and a new subscription of it comes.
  bus.Remove(d2.get());
  auto d3 = make("/device/p/d1/online");
  bus.Publish(DeviceEventOf("p", "d1", 5));
  EXPECT_EQ(Drain(*d3), (std::vector<int64_t>{5}));
  EXPECT_TRUE(Drain(*d2).empty());
  EXPECT_EQ(Drain(*p1), (std::vector<int64_t>{5}));
}

TEST(EventBusTest, PermissionsAdmitNothingWithoutSubscribeEventsAndEverythingWithAllProducts) {
  namespace authpb = northbound::auth::v1;
  EventBus bus;
  auto subscription = Subscribe(bus, "/device/*/*/online");
  auto permissions = [](bool subscribe, bool all_products) {
    auto p = std::make_shared<authpb::Permissions>();
    p->add_operations(authpb::READ_PROPERTY);
    if (subscribe) p->add_operations(authpb::SUBSCRIBE_EVENTS);
    p->set_all_products(all_products);
    auto* grant = p->add_products();
    grant->set_product_key("p");
    return p;
  };
  auto publish_both = [&](int n) {
    bus.Publish(DeviceEventOf("p", "d", n));
    bus.Publish(DeviceEventOf("q", "d", n + 1));
  };
  // Every product, but not SUBSCRIBE_EVENTS: nothing, not even the granted product.
  subscription->SetPermissions(permissions(false, true));
  publish_both(1);
  EXPECT_TRUE(Drain(*subscription).empty());
  // SUBSCRIBE_EVENTS on product p only.
  subscription->SetPermissions(permissions(true, false));
  publish_both(10);
  EXPECT_EQ(Drain(*subscription), (std::vector<int64_t>{10}));
  // On every product.
  subscription->SetPermissions(permissions(true, true));
  publish_both(20);
  EXPECT_EQ(Drain(*subscription), (std::vector<int64_t>{20, 21}));
  // Back to none.
  subscription->SetPermissions(permissions(false, false));
  publish_both(30);
  EXPECT_TRUE(Drain(*subscription).empty());
}

devicepb::DeviceEvent Report(int n) {
  devicepb::DeviceEvent event = Event("/device/p/d/message/property/report", n);
  event.set_product_key("p");
  event.set_device_key("d");
  event.set_kind(devicepb::PROPERTY_REPORT);
  auto& fields = *event.mutable_payload()->mutable_fields();
  fields["temperature"].set_number_value(20.5 + n);
  fields["label"].set_string_value("line " + std::to_string(n));
  return event;
}

// The subscription's next event, as a Commands stream takes it: in DeviceEvent's wire
// encoding, or as a JsonEvent.
bool TakeEncoded(Subscription& subscription, std::string& out) {
  EventPtr event;
  uint64_t dropped;
  if (!subscription.Pop(event, dropped)) return false;
  out = EncodedEvent(*event, dropped);
  return true;
}
bool TakeJson(Subscription& subscription, devicepb::JsonEvent& out) {
  EventPtr event;
  uint64_t dropped;
  if (!subscription.Pop(event, dropped)) return false;
  SetJsonEvent(out, *event, dropped);
  return true;
}

TEST(EventBusTest, EncodedEventsDecodeToThePublishedEventsWithTheDropCount) {
  using google::protobuf::util::MessageDifferencer;
  EventBus bus;
  auto subscription = Subscribe(bus, "/device/p/d/**", 2);
  for (int i = 0; i < 5; ++i) bus.Publish(Report(i));
  std::string encoded;
  devicepb::DeviceEvent decoded;
  ASSERT_TRUE(TakeEncoded(*subscription, encoded));
  ASSERT_TRUE(decoded.ParseFromString(encoded));
  devicepb::DeviceEvent expected = Report(3);
  expected.set_dropped_before(3);
  EXPECT_TRUE(MessageDifferencer::Equals(decoded, expected)) << decoded.DebugString();
  ASSERT_TRUE(TakeEncoded(*subscription, encoded));
  ASSERT_TRUE(decoded.ParseFromString(encoded));
  EXPECT_TRUE(MessageDifferencer::Equals(decoded, Report(4))) << decoded.DebugString();
  EXPECT_FALSE(TakeEncoded(*subscription, encoded));
}

TEST(EventBusTest, JsonEventsCarryThePublishedEventsAsFrameMembersWithTheDropCount) {
  EventBus bus;
  auto subscription =
      std::make_shared<Subscription>(*TopicPattern::Parse("/device/p/d/**"), 2, nullptr);
  auto other = std::make_shared<Subscription>(*TopicPattern::Parse("/device/p/*/**"), 8, nullptr);
  bus.Add(subscription);
  bus.Add(other);
  for (int i = 0; i < 5; ++i) bus.Publish(Report(i));
  // The members of an event frame: an object once braced.
  auto as_object = [](const devicepb::JsonEvent& event) {
    EXPECT_EQ(event.members().substr(0, 1), ",");
    return boost::json::parse("{" + event.members().substr(1) + "}").as_object();
  };
  devicepb::JsonEvent json;
  ASSERT_TRUE(TakeJson(*subscription, json));
  EXPECT_EQ(json.dropped_before(), 3u);
  boost::json::object members = as_object(json);
  EXPECT_EQ(members.at("topic"), "/device/p/d/message/property/report");
  EXPECT_EQ(members.at("deviceId"), "d");
  EXPECT_EQ(members.at("timestamp"), Report(3).timestamp_ms());
  EXPECT_EQ(members.at("payload"), boost::json::parse(R"({"label":"line 3","temperature":23.5})"));
  EXPECT_FALSE(members.contains("dropped"));
  EXPECT_FALSE(members.contains("code"));

  ASSERT_TRUE(TakeJson(*subscription, json));
  EXPECT_EQ(json.dropped_before(), 0u);
  EXPECT_EQ(as_object(json).at("payload").at("temperature"), 24.5);
  EXPECT_FALSE(TakeJson(*subscription, json));

  // Another subscription takes the same text, rendered once, with its own drop count.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(TakeJson(*other, json));
    EXPECT_EQ(json.dropped_before(), 0u);
    EXPECT_EQ(as_object(json).at("payload").at("label"),
              boost::json::value("line " + std::to_string(i)));
  }
}

TEST(EventBusTest, ACommandEventWithAnEncodedEventIsTheSameMessageOnTheWire) {
  devicepb::DeviceEvent event = Report(7);
  event.set_dropped_before(2);
  devicepb::CommandEvent direct;
  direct.set_command_id(42);
  *direct.mutable_event() = event;

  devicepb::CommandEvent spliced;
  spliced.mutable_end()->set_status(3);  // Replaced: an event is all it carries.
  spliced.set_command_id(42);
  SetEncodedEvent(spliced, event.SerializeAsString());
  // The same size (the bytes may differ only in the order of the payload's map entries).
  EXPECT_EQ(spliced.ByteSizeLong(), direct.ByteSizeLong());

  devicepb::CommandEvents events;
  *events.add_events() = spliced;
  devicepb::CommandEvents decoded;
  ASSERT_TRUE(decoded.ParseFromString(events.SerializeAsString()));
  ASSERT_EQ(decoded.events_size(), 1);
  ASSERT_TRUE(decoded.events(0).has_event());
  EXPECT_EQ(decoded.events(0).command_id(), 42u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded.events(0).event(), event));
}

TEST(EventBusTest, RemovedSubscriptionGetsNothing) {
  EventBus bus;
  auto subscription = Subscribe(bus, "/device/p/d/**", 3);
  bus.Remove(subscription.get());
  bus.Publish(Event("/device/p/d/online", 1));
  EXPECT_EQ(subscription->queued(), 0u);
  EXPECT_EQ(bus.size(), 0u);
}

}  // namespace
}  // namespace nb::device
