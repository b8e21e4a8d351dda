#ifndef NORTHBOUND_COMMON_AUTH_CLIENT_H_
#define NORTHBOUND_COMMON_AUTH_CLIENT_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "common/mutex.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

namespace nb {

using ValidateCallback =
    std::function<void(absl::StatusOr<northbound::auth::v1::ValidateTokenResponse>)>;

// Talks to auth-service: token validation with a short-lived cache, and the revocation
// watch. Used by ws-frontend for sessions and by device-service for direct callers.
// Thread-safe; callbacks run on gRPC threads (or inline on a cache hit) and must not block.
class AuthClient {
 public:
  // `on_cache_lookup(hit)` counts cache hits and misses for metrics; may be empty. `io`
  // runs the watch's reconnect timer.
  AuthClient(std::shared_ptr<grpc::Channel> channel, boost::asio::io_context& io,
             std::chrono::milliseconds cache_ttl, std::chrono::milliseconds timeout,
             std::function<void(bool hit)> on_cache_lookup = {});

  // While auth-service cannot be reached, a token it called VALID within the last `grace`
  // (and not expired since, nor revoked, disabled, rotated or changed by a watch event)
  // keeps its last answer instead of UNAVAILABLE. Tokens never seen are still refused.
  // Zero, the default, turns this off. Call before use.
  void SetOutageGrace(std::chrono::milliseconds grace) { outage_grace_ = grace; }
  ~AuthClient();

  // `done` gets the answer, or UNAVAILABLE when auth-service cannot be asked: never a
  // guess. `fresh` skips the cache (after a revocation).
  void Validate(const std::string& token, bool fresh, ValidateCallback done);

  // Watches revocations until Stop. `on_client_changed(client_id)` for each event;
  // `on_resync()` whenever the watch (re)connects, since events may have been missed.
  void StartWatch(std::function<void(const std::string&)> on_client_changed,
                  std::function<void()> on_resync);
  // Ends the watch and waits (up to 5 s) until no callback will touch this object.
  void Stop();

  bool Reachable() const;

 private:
  class Watch;
  struct CacheEntry {
    northbound::auth::v1::ValidateTokenResponse response;
    // Reused without asking until then.
    std::chrono::steady_clock::time_point expires;
    // When auth-service gave this answer.
    std::chrono::steady_clock::time_point checked;
  };

  // The last VALID answer for `token` if it may stand in for an unreachable auth-service.
  std::optional<northbound::auth::v1::ValidateTokenResponse> OutageAnswer(const std::string& token);

  void Forget(const std::string& client_id);
  void ScheduleWatch(std::chrono::milliseconds delay);
  void OpenWatch();
  // The watch's OnDone: first (the watch is no longer there to cancel), then once its
  // call is gone.
  void OnWatchClosing();
  void OnWatchEnded();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<northbound::auth::v1::AuthService::Stub> stub_;
  boost::asio::io_context& io_;
  const std::chrono::milliseconds cache_ttl_;
  const std::chrono::milliseconds timeout_;
  const std::function<void(bool)> on_cache_lookup_;
  std::chrono::milliseconds outage_grace_{0};

  mutable Mutex mu_;
  absl::flat_hash_map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
  // The watch Stop cancels; cleared as the watch's OnDone begins.
  Watch* watch_ ABSL_GUARDED_BY(mu_) = nullptr;
  // From OpenWatch until the watch's call is gone: Stop waits for it.
  bool watch_open_ ABSL_GUARDED_BY(mu_) = false;
  // Validations whose callbacks have not finished; Stop waits for them.
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::condition_variable watch_done_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(const std::string&)> on_client_changed_;
  std::function<void()> on_resync_;
  std::unique_ptr<boost::asio::steady_timer> retry_timer_;
};

}  // namespace nb

#endif  // NORTHBOUND_COMMON_AUTH_CLIENT_H_
