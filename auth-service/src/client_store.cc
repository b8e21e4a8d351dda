#include "auth-service/src/client_store.h"

#include <sqlite3.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace nb::auth {
namespace {

// Each entry moves the schema one version forward, inside one transaction.
// Version 1: the clients table. Version 2: token lookups by hash get an index, and a
// revoked client keeps when it was revoked.
constexpr const char* kMigrations[] = {
    R"(CREATE TABLE clients (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         enabled INTEGER NOT NULL,
         revoked INTEGER NOT NULL,
         token_hash TEXT NOT NULL,
         token_hint TEXT NOT NULL,
         permissions BLOB NOT NULL,
         created_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL))",
    R"(CREATE UNIQUE INDEX clients_token_hash ON clients(token_hash);
       ALTER TABLE clients ADD COLUMN revoked_ms INTEGER NOT NULL DEFAULT 0)",
};

// Finalizes a statement however the scope is left.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr); }
  ~Statement() { sqlite3_finalize(statement_); }
  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

ClientRecord ReadRow(sqlite3_stmt* row) {
  auto text = [&](int column) {
    const unsigned char* value = sqlite3_column_text(row, column);
    return value == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(value));
  };
  ClientRecord record;
  record.id = text(0);
  record.name = text(1);
  record.enabled = sqlite3_column_int(row, 2) != 0;
  record.revoked = sqlite3_column_int(row, 3) != 0;
  record.token_hash = text(4);
  record.token_hint = text(5);
  record.permissions.ParseFromArray(sqlite3_column_blob(row, 6), sqlite3_column_bytes(row, 6));
  record.created_ms = sqlite3_column_int64(row, 7);
  record.updated_ms = sqlite3_column_int64(row, 8);
  record.expires_ms = sqlite3_column_int64(row, 9);
  return record;
}

constexpr char kColumns[] =
    "id, name, enabled, revoked, token_hash, token_hint, permissions, created_ms, updated_ms, "
    "expires_ms";

}  // namespace

absl::StatusOr<std::unique_ptr<ClientStore>> ClientStore::Open(const std::string& path,
                                                               int target_version) {
  std::error_code error;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open database ", path, ": ", message));
  }
  auto store = std::unique_ptr<ClientStore>(new ClientStore(db));
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (absl::Status s = store->Exec(pragma); !s.ok()) return s;
  }
  if (absl::Status s = store->Migrate(target_version); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  return store;
}

ClientStore::~ClientStore() { sqlite3_close(db_); }

absl::Status ClientStore::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status status =
        absl::InternalError(absl::StrCat("database error: ", error ? error : "?"));
    sqlite3_free(error);
    return status;
  }
  return absl::OkStatus();
}

absl::Status ClientStore::Migrate(int target_version) {
  {
    Statement statement(db_, "PRAGMA user_version");
    if (sqlite3_step(statement.get()) == SQLITE_ROW)
      version_ = sqlite3_column_int(statement.get(), 0);
  }
  constexpr int kKnown = static_cast<int>(std::size(kMigrations));
  if (version_ > kKnown) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", version_, " is newer than this auth-service (", kKnown, ")"));
  }
  while (version_ < target_version && version_ < kKnown) {
    const std::string sql = absl::StrCat("BEGIN IMMEDIATE; ", kMigrations[version_],
                                         "; PRAGMA user_version = ", version_ + 1, "; COMMIT;");
    if (absl::Status s = Exec(sql.c_str()); !s.ok()) {
      // The failed statement already names the cause; a failed rollback adds nothing.
      Exec("ROLLBACK").IgnoreError();
      return absl::InternalError(
          absl::StrCat("migration to schema version ", version_ + 1, " failed: ", s.message()));
    }
    ++version_;
  }
  return absl::OkStatus();
}

absl::Status ClientStore::Write(const char* sql, const ClientRecord& record) {
  Statement statement(db_, sql);
  if (statement.get() == nullptr) return absl::InternalError(sqlite3_errmsg(db_));
  const std::string permissions = record.permissions.SerializeAsString();
  sqlite3_stmt* s = statement.get();
  sqlite3_bind_text(s, 1, record.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, record.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 3, record.enabled ? 1 : 0);
  sqlite3_bind_int(s, 4, record.revoked ? 1 : 0);
  sqlite3_bind_text(s, 5, record.token_hash.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 6, record.token_hint.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(s, 7, permissions.data(), static_cast<int>(permissions.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 8, record.created_ms);
  sqlite3_bind_int64(s, 9, record.updated_ms);
  sqlite3_bind_int64(s, 10, record.expires_ms);
  const int result = sqlite3_step(s);
  if (result == SQLITE_CONSTRAINT) {
    return absl::AlreadyExistsError(absl::StrCat("client ", record.id, " conflicts with another"));
  }
  if (result != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError(absl::StrCat("no client ", record.id));
  return absl::OkStatus();
}

absl::Status ClientStore::Insert(const ClientRecord& record) {
  return Write(
      "INSERT INTO clients (id, name, enabled, revoked, token_hash, token_hint, permissions, "
      "created_ms, updated_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      record);
}

absl::Status ClientStore::Update(const ClientRecord& record) {
  return Write(
      "UPDATE clients SET name = ?2, enabled = ?3, revoked = ?4, token_hash = ?5, "
      "token_hint = ?6, permissions = ?7, created_ms = ?8, updated_ms = ?9, expires_ms = ?10 "
      "WHERE id = ?1",
      record);
}

absl::Status ClientStore::Delete(const std::string& id) {
  Statement statement(db_, "DELETE FROM clients WHERE id = ?1");
  sqlite3_bind_text(statement.get(), 1, id.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(statement.get()) != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) == 0) return absl::NotFoundError(absl::StrCat("no client ", id));
  return absl::OkStatus();
}

absl::StatusOr<ClientRecord> ClientStore::Get(const std::string& id) {
  const std::string sql = absl::StrCat("SELECT ", kColumns, " FROM clients WHERE id = ?1");
  Statement statement(db_, sql.c_str());
  sqlite3_bind_text(statement.get(), 1, id.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(statement.get()) != SQLITE_ROW) {
    return absl::NotFoundError(absl::StrCat("no client ", id));
  }
  return ReadRow(statement.get());
}

std::vector<ClientRecord> ClientStore::LoadAll() {
  const std::string sql = absl::StrCat("SELECT ", kColumns, " FROM clients ORDER BY id");
  Statement statement(db_, sql.c_str());
  std::vector<ClientRecord> records;
  while (sqlite3_step(statement.get()) == SQLITE_ROW) records.push_back(ReadRow(statement.get()));
  return records;
}

}  // namespace nb::auth
