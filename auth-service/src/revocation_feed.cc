#include "auth-service/src/revocation_feed.h"

namespace nb::auth {

void RevocationWatcher::Offer(const northbound::auth::v1::RevocationEvent& event) {
  bool wake;
  {
    MutexLock lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      overflowed_ = true;
    } else {
      queue_.push_back(event);
    }
    wake = queue_.size() == 1 || overflowed_;
  }
  if (wake && wake_) wake_();
}

bool RevocationWatcher::Take(northbound::auth::v1::RevocationEvent& out) {
  MutexLock lock(mu_);
  if (queue_.empty()) return false;
  out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

bool RevocationWatcher::overflowed() const {
  MutexLock lock(mu_);
  return overflowed_;
}

void RevocationFeed::Add(std::shared_ptr<RevocationWatcher> watcher) {
  MutexLock lock(mu_);
  watchers_.push_back(std::move(watcher));
}

void RevocationFeed::Remove(const RevocationWatcher* watcher) {
  MutexLock lock(mu_);
  std::erase_if(watchers_, [&](const auto& w) { return w.get() == watcher; });
}

void RevocationFeed::Publish(const northbound::auth::v1::RevocationEvent& event) {
  std::vector<std::shared_ptr<RevocationWatcher>> watchers;
  {
    MutexLock lock(mu_);
    watchers = watchers_;
  }
  for (const auto& watcher : watchers) watcher->Offer(event);
}

}  // namespace nb::auth
