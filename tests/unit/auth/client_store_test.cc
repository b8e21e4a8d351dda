#include "auth-service/src/client_store.h"

#include <sqlite3.h>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nb::auth {
namespace {

ClientRecord Record(const std::string& id, const std::string& hash) {
  ClientRecord record;
  record.id = id;
  record.name = "name-" + id;
  record.token_hash = hash;
  record.token_hint = hash.substr(0, 8);
  record.permissions.set_all_products(true);
  record.permissions.add_operations(authpb::READ_PROPERTY);
  record.created_ms = record.updated_ms = 1000;
  return record;
}

TEST(ClientStoreTest, CrudRoundTrip) {
  testing::TempDir dir;
  auto store = ClientStore::Open(dir.File("sub/dir/auth.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), ClientStore::kSchemaVersion);
  ASSERT_TRUE((*store)->Insert(Record("c1", "hash1hash1")).ok());
  ASSERT_TRUE((*store)->Insert(Record("c2", "hash2hash2")).ok());
  EXPECT_EQ((*store)->Insert(Record("c1", "hash3hash3")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((*store)->Insert(Record("c3", "hash1hash1")).code(), absl::StatusCode::kAlreadyExists);

  ClientRecord updated = Record("c1", "hash9hash9");
  updated.enabled = false;
  updated.expires_ms = 5000;
  ASSERT_TRUE((*store)->Update(updated).ok());
  absl::StatusOr<ClientRecord> got = (*store)->Get("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->token_hash, "hash9hash9");
  EXPECT_EQ(got->expires_ms, 5000);
  EXPECT_TRUE(got->permissions.all_products());

  ASSERT_TRUE((*store)->Delete("c2").ok());
  EXPECT_EQ((*store)->Delete("c2").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->Get("c2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->Update(Record("nope", "x")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->LoadAll().size(), 1u);
}

TEST(ClientStoreTest, DataSurvivesReopen) {
  testing::TempDir dir;
  {
    auto store = ClientStore::Open(dir.File("auth.db"));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Insert(Record("c1", "hash1hash1")).ok());
  }
  auto store = ClientStore::Open(dir.File("auth.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_EQ((*store)->LoadAll().size(), 1u);
  EXPECT_EQ((*store)->LoadAll()[0].name, "name-c1");
}

TEST(ClientStoreTest, MigratesAnOlderSchemaKeepingItsRows) {
  testing::TempDir dir;
  {
    auto old = ClientStore::Open(dir.File("auth.db"), 1);
    ASSERT_TRUE(old.ok());
    EXPECT_EQ((*old)->schema_version(), 1);
    ASSERT_TRUE((*old)->Insert(Record("c1", "hash1hash1")).ok());
  }
  auto store = ClientStore::Open(dir.File("auth.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), 2);
  ASSERT_EQ((*store)->LoadAll().size(), 1u);
  // Version 2 made token hashes unique.
  EXPECT_EQ((*store)->Insert(Record("c2", "hash1hash1")).code(), absl::StatusCode::kAlreadyExists);
}

TEST(ClientStoreTest, RefusesANewerSchema) {
  testing::TempDir dir;
  {
    sqlite3* db = nullptr;
    sqlite3_open(dir.File("auth.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto store = ClientStore::Open(dir.File("auth.db"));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer"), std::string::npos) << store.status();
}

TEST(ClientStoreTest, UnopenablePathIsAClearError) {
  auto store = ClientStore::Open("/proc/no/such/auth.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/proc/no/such/auth.db"), std::string::npos);
}

}  // namespace
}  // namespace nb::auth
