#ifndef NORTHBOUND_DEVICE_SERVICE_AUTHORIZER_H_
#define NORTHBOUND_DEVICE_SERVICE_AUTHORIZER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/auth_client.h"
#include "common/mutex.h"
#include "grpcpp/grpcpp.h"
#include "northbound/auth/v1/auth.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace nb::device {

using PermissionsPtr = std::shared_ptr<const northbound::auth::v1::Permissions>;

// Who is calling, as auth-service vouched for it.
struct Caller {
  // Empty when unauthenticated calls are allowed (development only).
  std::string client_id;
  std::string token;
  PermissionsPtr permissions;
};

// A stream that must end or narrow when its client's standing changes.
class GuardedStream {
 public:
  virtual ~GuardedStream() = default;
  // The client's current permissions after a revocation event, or UNAUTHENTICATED when
  // its token no longer counts. Any thread; must not block.
  virtual void Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) = 0;
};

// Decides who may call DeviceService: reads `authorization: Bearer <client token>`, asks
// auth-service through a revocation-aware cache, and re-checks live streams when a
// client is revoked, disabled, rotated, deleted, expires or has its permissions changed.
// Never fails open: when auth-service cannot answer, the call is refused. Thread-safe.
class Authorizer {
 public:
  // `auth` null and `allow_unauthenticated`: every call may do everything (development).
  // `auth` null otherwise: every call is refused as UNAVAILABLE.
  Authorizer(AuthClient* auth, bool allow_unauthenticated, prometheus::Registry& metrics);

  // `done` gets the caller, or UNAUTHENTICATED (no or invalid token) or UNAVAILABLE
  // (auth-service cannot say). It runs inline (cache hit, no token) or on a gRPC thread.
  void Authorize(grpc::CallbackServerContext& context,
                 std::function<void(absl::StatusOr<Caller>)> done);
  // The same for a token carried in a message (a command of a Commands stream).
  void Authorize(const std::string& token, std::function<void(absl::StatusOr<Caller>)> done);

  // Re-checks `stream` on every change to the caller's client until the stream is gone.
  void Track(const Caller& caller, const std::shared_ptr<GuardedStream>& stream);
  void Untrack(const Caller& caller, const GuardedStream* stream);

  // Counts a refusal for a reason other than the token (the permissions).
  void CountDenied();

  // From the revocation watch: one client changed; or the watch (re)connected and any
  // client may have.
  void OnClientChanged(const std::string& client_id);
  void OnResync();

 private:
  struct Tracked {
    std::string token;
    std::weak_ptr<GuardedStream> stream;
  };
  void Recheck(std::vector<Tracked> streams);

  AuthClient* const auth_;
  const bool allow_unauthenticated_;
  prometheus::Counter* allowed_;
  prometheus::Counter* unauthenticated_;
  prometheus::Counter* denied_;
  prometheus::Counter* unavailable_;
  Mutex mu_;
  // client id -> its live streams.
  absl::flat_hash_map<std::string, absl::flat_hash_map<const GuardedStream*, Tracked>> streams_
      ABSL_GUARDED_BY(mu_);
};

// The message a caller sees when auth-service cannot vouch for it.
absl::Status AuthUnavailable();

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_AUTHORIZER_H_
