#ifndef NORTHBOUND_AUTH_SERVICE_REVOCATION_FEED_H_
#define NORTHBOUND_AUTH_SERVICE_REVOCATION_FEED_H_

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "northbound/auth/v1/auth.pb.h"

namespace nb::auth {

// One WatchRevocations stream's queue. Revocations are rare; a watcher that falls more
// than `kMaxQueued` behind is ended (it must reconnect and treat every session as
// suspect) rather than allowed to grow without bound.
class RevocationWatcher {
 public:
  static constexpr size_t kMaxQueued = 10000;

  explicit RevocationWatcher(std::function<void()> wake) : wake_(std::move(wake)) {}

  void Offer(const northbound::auth::v1::RevocationEvent& event);
  // False when nothing is queued.
  bool Take(northbound::auth::v1::RevocationEvent& out);
  bool overflowed() const;

 private:
  const std::function<void()> wake_;
  mutable Mutex mu_;
  std::deque<northbound::auth::v1::RevocationEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
};

// Fans revocation events out to every watcher. Thread-safe.
class RevocationFeed {
 public:
  void Add(std::shared_ptr<RevocationWatcher> watcher);
  void Remove(const RevocationWatcher* watcher);
  void Publish(const northbound::auth::v1::RevocationEvent& event);

 private:
  Mutex mu_;
  std::vector<std::shared_ptr<RevocationWatcher>> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_REVOCATION_FEED_H_
