#ifndef NORTHBOUND_AUTH_SERVICE_CLIENT_DIRECTORY_H_
#define NORTHBOUND_AUTH_SERVICE_CLIENT_DIRECTORY_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "auth-service/src/auth_metrics.h"
#include "auth-service/src/client_store.h"
#include "auth-service/src/revocation_feed.h"
#include "common/mutex.h"

namespace nb::auth {

// The clients: the store on disk, an in-memory index by token hash for validation, and
// the revocation feed.
//
// Threads: Validate may be called from any thread (it looks the token up under the
// index's mutex, held for the lookup only, and never touches the database). Every other
// method must run on the database thread, one at a time; each change is written to the
// store before it takes effect.
class ClientDirectory {
 public:
  ClientDirectory(std::unique_ptr<ClientStore> store, RevocationFeed& feed, AuthMetrics& metrics);

  authpb::ValidateTokenResponse Validate(absl::string_view token) const;

  absl::StatusOr<authpb::CreateClientResponse> Create(const authpb::CreateClientRequest& request);
  absl::StatusOr<authpb::ListClientsResponse> List(const authpb::ListClientsRequest& request) const;
  absl::StatusOr<authpb::Client> Get(const std::string& id) const;
  absl::StatusOr<authpb::Client> Update(const authpb::UpdateClientRequest& request);
  absl::StatusOr<authpb::Client> Revoke(const std::string& id);
  absl::StatusOr<authpb::RotateTokenResponse> Rotate(const std::string& id);
  absl::Status Delete(const std::string& id);

  // Publishes EXPIRED for clients whose expiry passed since the last sweep. Database
  // thread, about once a second.
  void SweepExpired();

 private:
  absl::StatusOr<ClientRecord*> Find(const std::string& id);
  absl::Status Save(ClientRecord& record, bool insert);
  void Publish(const std::string& id, authpb::RevocationEvent::Kind kind);
  void UpdateStateGauges();

  std::unique_ptr<ClientStore> store_;
  RevocationFeed& feed_;
  AuthMetrics& metrics_;
  // Database thread only; ordered by id for paging.
  std::map<std::string, ClientRecord> by_id_;
  absl::flat_hash_set<std::string> expired_announced_;

  mutable Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const ClientRecord>> by_hash_
      ABSL_GUARDED_BY(mu_);
};

// The state shown to operators, derived from the record and the time.
authpb::ClientState StateOf(const ClientRecord& record, int64_t now_ms);

// Checks names, permissions and expiry of a create or update; INVALID_ARGUMENT with the
// reason.
absl::Status CheckName(const std::string& name);
absl::Status CheckPermissions(const authpb::Permissions& permissions);

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_CLIENT_DIRECTORY_H_
