#include "device-service/src/event_bus.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_split.h"
#include "common/event_json.h"
#include "common/permissions.h"
#include "google/protobuf/unknown_field_set.h"

namespace nb::device {

Subscription::Subscription(TopicPattern pattern, size_t capacity, std::function<void()> wake)
    : pattern_(std::move(pattern)),
      capacity_(std::max<size_t>(capacity, 1)),
      wake_(std::move(wake)) {}

int Subscription::Offer(const EventPtr& event) {
  int dropped = 0;
  bool was_empty;
  {
    MutexLock lock(mu_);
    if (admits_ == Admits::kNone) return 0;
    if (admits_ == Admits::kSome &&
        !Allows(*permissions_, northbound::auth::v1::SUBSCRIBE_EVENTS, event->event.product_key(),
                event->event.device_key())) {
      return 0;
    }
    was_empty = queue_.empty();
    if (queue_.size() >= capacity_) {
      queue_.pop_front();
      ++dropped_;
      dropped = 1;
    }
    queue_.push_back(event);
  }
  if (was_empty && wake_) wake_();
  return dropped;
}

void Subscription::SetPermissions(
    std::shared_ptr<const northbound::auth::v1::Permissions> permissions) {
  namespace authpb = northbound::auth::v1;
  Admits admits = Admits::kAll;
  if (permissions != nullptr) {
    if (!HasOperation(*permissions, authpb::SUBSCRIBE_EVENTS)) {
      admits = Admits::kNone;
    } else if (!permissions->all_products()) {
      admits = Admits::kSome;
    }
  }
  MutexLock lock(mu_);
  permissions_ = std::move(permissions);
  admits_ = admits;
}

bool Subscription::Pop(EventPtr& event, uint64_t& dropped) {
  MutexLock lock(mu_);
  if (queue_.empty()) return false;
  event = std::move(queue_.front());
  queue_.pop_front();
  dropped = std::exchange(dropped_, 0);
  return true;
}

bool Subscription::Take(devicepb::DeviceEvent& out) {
  EventPtr event;
  uint64_t dropped;
  if (!Pop(event, dropped)) return false;
  out = event->event;
  out.set_dropped_before(dropped);
  return true;
}

std::string EncodedEvent(const PublishedEvent& event, uint64_t dropped) {
  std::string out = event.encoded;
  if (dropped > 0) {
    // A field that appears again replaces the one before (the event has none: its own
    // dropped_before is 0, which proto3 does not encode).
    devicepb::DeviceEvent count;
    count.set_dropped_before(dropped);
    count.AppendToString(&out);
  }
  return out;
}

void SetJsonEvent(devicepb::JsonEvent& out, const PublishedEvent& event, uint64_t dropped) {
  out.set_members(event.json_members());
  out.set_dropped_before(dropped);
}

const std::string& PublishedEvent::json_members() const {
  std::call_once(json_once_, [this] { AppendEventMembers(json_members_, event); });
  return json_members_;
}

void SetEncodedEvent(devicepb::CommandEvent& out, std::string encoded) {
  out.clear_kind();
  google::protobuf::UnknownFieldSet& unknown = *out.GetReflection()->MutableUnknownFields(&out);
  *unknown.AddLengthDelimited(devicepb::CommandEvent::kEventFieldNumber) = std::move(encoded);
}

size_t Subscription::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void EventBus::Add(std::shared_ptr<Subscription> subscription) {
  MutexLock lock(mu_);
  auto next = std::make_shared<GroupList>(*groups_);
  auto group = std::find_if(next->begin(), next->end(), [&](const PatternGroup& g) {
    return g.pattern.text() == subscription->pattern().text();
  });
  if (group == next->end()) {
    group = next->insert(next->end(), PatternGroup{subscription->pattern(), {}});
  }
  group->subscriptions.push_back(std::move(subscription));
  ++size_;
  groups_ = std::move(next);
}

void EventBus::Remove(const Subscription* subscription) {
  MutexLock lock(mu_);
  auto next = std::make_shared<GroupList>(*groups_);
  for (PatternGroup& group : *next) {
    size_ -=
        std::erase_if(group.subscriptions, [&](const auto& s) { return s.get() == subscription; });
  }
  std::erase_if(*next, [](const PatternGroup& group) { return group.subscriptions.empty(); });
  groups_ = std::move(next);
}

size_t EventBus::size() const {
  MutexLock lock(mu_);
  return size_;
}

void EventBus::Publish(devicepb::DeviceEvent event) {
  // Deliver outside the bus lock: Offer may wake a writer.
  std::shared_ptr<const GroupList> targets;
  {
    MutexLock lock(mu_);
    targets = groups_;
  }
  auto published = std::make_shared<PublishedEvent>();
  published->event = std::move(event);
  if (!targets->empty()) published->encoded = published->event.SerializeAsString();
  const EventPtr shared = std::move(published);
  const absl::string_view topic = shared->event.topic();
  const std::vector<absl::string_view> segments =
      absl::StrSplit(topic.empty() ? topic : topic.substr(1), '/');
  int dropped = 0;
  for (const PatternGroup& group : *targets) {
    if (!group.pattern.Matches(segments)) continue;
    for (const auto& subscription : group.subscriptions) dropped += subscription->Offer(shared);
  }
  if (on_published) on_published(shared->event);
  if (dropped > 0 && on_dropped) on_dropped(dropped);
}

}  // namespace nb::device
