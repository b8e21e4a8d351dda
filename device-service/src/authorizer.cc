#include "device-service/src/authorizer.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/permissions.h"
#include "common/status.h"

namespace nb::device {

namespace authpb = northbound::auth::v1;

namespace {

constexpr absl::string_view kBearer = "Bearer ";

// The token of "authorization: Bearer <token>", or empty.
std::string BearerToken(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWithIgnoreCase(value, kBearer)) return "";
  return std::string(absl::StripAsciiWhitespace(value.substr(kBearer.size())));
}

PermissionsPtr Everything() {
  static const PermissionsPtr everything =
      std::make_shared<const authpb::Permissions>(AllPermissions());
  return everything;
}

}  // namespace

absl::Status AuthUnavailable() {
  return ErrorStatus(ErrorCode::SERVER_NOT_AVAILABLE,
                     "auth-service is not available to check the token");
}

Authorizer::Authorizer(AuthClient* auth, bool allow_unauthenticated, prometheus::Registry& metrics)
    : auth_(auth), allow_unauthenticated_(allow_unauthenticated) {
  auto& family = prometheus::BuildCounter()
                     .Name("northbound_device_authorizations_total")
                     .Help("DeviceService calls by authorization result")
                     .Register(metrics);
  allowed_ = &family.Add({{"result", "allowed"}});
  unauthenticated_ = &family.Add({{"result", "unauthenticated"}});
  denied_ = &family.Add({{"result", "permission_denied"}});
  unavailable_ = &family.Add({{"result", "unavailable"}});
}

void Authorizer::CountDenied() { denied_->Increment(); }

void Authorizer::Authorize(grpc::CallbackServerContext& context,
                           std::function<void(absl::StatusOr<Caller>)> done) {
  Authorize(BearerToken(context), std::move(done));
}

void Authorizer::Authorize(const std::string& token,
                           std::function<void(absl::StatusOr<Caller>)> done) {
  if (auth_ == nullptr) {
    if (allow_unauthenticated_) {
      allowed_->Increment();
      return done(Caller{"", "", Everything()});
    }
    unavailable_->Increment();
    return done(AuthUnavailable());
  }
  if (token.empty()) {
    unauthenticated_->Increment();
    return done(absl::UnauthenticatedError(
        "DeviceService needs a client token: metadata 'authorization: Bearer <token>' (or, "
        "on a Commands stream, the command's token)"));
  }
  auth_->Validate(token, false, [this, token, done = std::move(done)](auto result) {
    if (!result.ok()) {
      unavailable_->Increment();
      return done(AuthUnavailable());
    }
    if (result->status() != authpb::VALID) {
      unauthenticated_->Increment();
      return done(absl::UnauthenticatedError("invalid token"));
    }
    allowed_->Increment();
    // The answer is moved, not copied; the permissions share its lifetime.
    auto answer = std::make_shared<const authpb::ValidateTokenResponse>(*std::move(result));
    done(Caller{answer->principal().client_id(), token,
                PermissionsPtr(answer, &answer->principal().permissions())});
  });
}

void Authorizer::Track(const Caller& caller, const std::shared_ptr<GuardedStream>& stream) {
  if (caller.client_id.empty()) return;
  MutexLock lock(mu_);
  streams_[caller.client_id][stream.get()] = Tracked{caller.token, stream};
}

void Authorizer::Untrack(const Caller& caller, const GuardedStream* stream) {
  if (caller.client_id.empty()) return;
  MutexLock lock(mu_);
  auto it = streams_.find(caller.client_id);
  if (it == streams_.end()) return;
  it->second.erase(stream);
  if (it->second.empty()) streams_.erase(it);
}

void Authorizer::OnClientChanged(const std::string& client_id) {
  std::vector<Tracked> streams;
  {
    MutexLock lock(mu_);
    auto it = streams_.find(client_id);
    if (it == streams_.end()) return;
    for (const auto& [stream, tracked] : it->second) streams.push_back(tracked);
  }
  Recheck(std::move(streams));
}

void Authorizer::OnResync() {
  std::vector<Tracked> streams;
  {
    MutexLock lock(mu_);
    for (const auto& [client, by_stream] : streams_) {
      for (const auto& [stream, tracked] : by_stream) streams.push_back(tracked);
    }
  }
  Recheck(std::move(streams));
}

void Authorizer::Recheck(std::vector<Tracked> streams) {
  if (auth_ == nullptr) return;
  // One question per token, however many streams it holds open.
  absl::flat_hash_map<std::string, std::vector<std::weak_ptr<GuardedStream>>> by_token;
  for (Tracked& tracked : streams) by_token[tracked.token].push_back(std::move(tracked.stream));
  for (auto& [token, weak_streams] : by_token) {
    // Fresh: the cached answer is what just changed.
    auth_->Validate(token, true, [weak_streams = std::move(weak_streams)](auto result) {
      // Unreachable auth-service does not end a stream that was allowed: the watch
      // reconnects and asks again.
      if (!result.ok()) return;
      absl::StatusOr<PermissionsPtr> standing =
          result->status() == authpb::VALID
              ? absl::StatusOr<PermissionsPtr>(
                    std::make_shared<const authpb::Permissions>(result->principal().permissions()))
              : absl::UnauthenticatedError("the client's token is no longer valid");
      for (const auto& weak : weak_streams) {
        if (std::shared_ptr<GuardedStream> stream = weak.lock()) stream->Reauthorized(standing);
      }
    });
  }
}

}  // namespace nb::device
