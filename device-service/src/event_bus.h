#ifndef NORTHBOUND_DEVICE_SERVICE_EVENT_BUS_H_
#define NORTHBOUND_DEVICE_SERVICE_EVENT_BUS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "common/topic.h"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.pb.h"

namespace nb::device {

namespace devicepb = northbound::device::v1;

// A published event, shared by every subscription it is queued for. `encoded` is its wire
// encoding, made once when published to any subscription: a Commands stream sends those
// bytes to each of its subscriptions as they are, instead of copying and serializing the
// event once per subscription.
struct PublishedEvent {
  devicepb::DeviceEvent event;
  std::string encoded;

  // The event rendered as JsonEvent.members (AppendEventMembers), on first use: once for
  // all the subscriptions that asked for JSON_MEMBERS. Thread-safe.
  const std::string& json_members() const;

 private:
  mutable std::once_flag json_once_;
  mutable std::string json_members_;
};
using EventPtr = std::shared_ptr<const PublishedEvent>;

// Makes `out` carry the event whose DeviceEvent wire encoding is `encoded`, as its `event`,
// without decoding it: the bytes go out as field `event` (an unknown field here, encoded
// exactly as the set field would be), and the caller parses a DeviceEvent from them.
void SetEncodedEvent(devicepb::CommandEvent& out, std::string encoded);

// A taken event (Subscription::Pop) in DeviceEvent's wire encoding, or as a JsonEvent, with
// `dropped` as its dropped_before.
std::string EncodedEvent(const PublishedEvent& event, uint64_t dropped);
void SetJsonEvent(devicepb::JsonEvent& out, const PublishedEvent& event, uint64_t dropped);

// One live subscriber: its topic pattern and a bounded queue. When the queue is full the
// oldest event is dropped and counted; the next event taken reports the count in
// dropped_before. A slow subscriber therefore costs at most `capacity` events of memory.
//
// Offer runs on publishing threads; Take on the subscriber's writer. Both are thread-safe.
class Subscription {
 public:
  // `wake` runs (on the publishing thread, without locks held) when an event is queued
  // into an empty queue: the writer should Take.
  Subscription(TopicPattern pattern, size_t capacity, std::function<void()> wake);

  const TopicPattern& pattern() const { return pattern_; }

  // From now on only events of devices these permissions let the subscriber watch
  // (SUBSCRIBE_EVENTS) are queued; null, the initial value, admits every event.
  void SetPermissions(std::shared_ptr<const northbound::auth::v1::Permissions> permissions);

  // Queues the event, whose topic the bus matched against the pattern, if the permissions
  // admit it. Returns how many events were dropped for it (0 or 1) so the bus can count them.
  int Offer(const EventPtr& event);

  // The next event, with dropped_before filled in; false when the queue is empty.
  bool Take(devicepb::DeviceEvent& out);
  // The oldest queued event as published, shared with the other subscriptions it went to,
  // and the count dropped before it, which restarts at 0.
  bool Pop(EventPtr& event, uint64_t& dropped);

  size_t queued() const;

 private:
  const TopicPattern pattern_;
  const size_t capacity_;
  const std::function<void()> wake_;
  // What the permissions admit, worked out when they are set: an event is checked against
  // them only when they name products, so that a client allowed every product costs no
  // look-up per event.
  enum class Admits { kAll, kNone, kSome };

  mutable Mutex mu_;
  std::shared_ptr<const northbound::auth::v1::Permissions> permissions_ ABSL_GUARDED_BY(mu_);
  Admits admits_ ABSL_GUARDED_BY(mu_) = Admits::kAll;
  std::deque<EventPtr> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

// Fans published events out to the subscriptions whose pattern matches. Thread-safe.
//
// Subscriptions with the same pattern text are kept together, so that an event's topic is
// matched once for all of them (a frontend's thousand sessions watching one product), and
// are offered each event in the order they were added.
class EventBus {
 public:
  // Counts for metrics; may be empty.
  std::function<void(const devicepb::DeviceEvent&)> on_published;
  std::function<void(int)> on_dropped;

  void Add(std::shared_ptr<Subscription> subscription);
  void Remove(const Subscription* subscription);
  void Publish(devicepb::DeviceEvent event);
  size_t size() const;

 private:
  // The subscriptions whose pattern has this text, in the order they were added.
  struct PatternGroup {
    TopicPattern pattern;
    std::vector<std::shared_ptr<Subscription>> subscriptions;
  };
  using GroupList = std::vector<PatternGroup>;

  // Copy-on-write: Publish takes a snapshot with one pointer copy, whatever the number of
  // subscribers; Add and Remove (rare) build a new list.
  mutable Mutex mu_;
  std::shared_ptr<const GroupList> groups_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const GroupList>();
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_EVENT_BUS_H_
