#ifndef NORTHBOUND_AUTH_SERVICE_CLIENT_STORE_H_
#define NORTHBOUND_AUTH_SERVICE_CLIENT_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "northbound/auth/v1/auth.pb.h"

struct sqlite3;

namespace nb::auth {

namespace authpb = northbound::auth::v1;

// A client as stored: everything but the token itself, of which only the hash is kept.
struct ClientRecord {
  std::string id;
  std::string name;
  bool enabled = true;
  bool revoked = false;
  std::string token_hash;
  std::string token_hint;
  authpb::Permissions permissions;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t expires_ms = 0;  // 0: never.
};

// The clients in an embedded SQLite database (WAL mode, synchronous=FULL: a write that
// returned is on disk). The schema is versioned and migrated forward on open.
//
// Not thread-safe: one thread (the service's database thread) owns a store.
class ClientStore {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the database, creating its directory, and migrates it to
  // `target_version` (tests use older versions to check migrations).
  static absl::StatusOr<std::unique_ptr<ClientStore>> Open(const std::string& path,
                                                           int target_version = kSchemaVersion);
  ~ClientStore();

  int schema_version() const { return version_; }

  absl::Status Insert(const ClientRecord& record);
  absl::Status Update(const ClientRecord& record);
  absl::Status Delete(const std::string& id);
  absl::StatusOr<ClientRecord> Get(const std::string& id);
  std::vector<ClientRecord> LoadAll();

 private:
  explicit ClientStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql);
  absl::Status Migrate(int target_version);
  absl::Status Write(const char* sql, const ClientRecord& record);

  sqlite3* db_;
  int version_ = 0;
};

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_CLIENT_STORE_H_
