#include "auth-service/src/client_directory.h"

#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nb::auth {
namespace {

using google::protobuf::util::TimeUtil;

class ClientDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ClientStore::Open(dir_.File("auth.db"));
    ASSERT_TRUE(store.ok());
    directory_ = std::make_unique<ClientDirectory>(*std::move(store), feed_, metrics_);
    watcher_ = std::make_shared<RevocationWatcher>(nullptr);
    feed_.Add(watcher_);
  }

  authpb::CreateClientResponse Create(const std::string& name) {
    authpb::CreateClientRequest request;
    request.set_name(name);
    request.mutable_permissions()->set_all_products(true);
    request.mutable_permissions()->add_operations(authpb::READ_PROPERTY);
    auto response = directory_->Create(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return *response;
  }

  std::vector<authpb::RevocationEvent::Kind> Events() {
    std::vector<authpb::RevocationEvent::Kind> kinds;
    authpb::RevocationEvent event;
    while (watcher_->Take(event)) kinds.push_back(event.kind());
    return kinds;
  }

  testing::TempDir dir_;
  prometheus::Registry registry_;
  AuthMetrics metrics_{registry_};
  RevocationFeed feed_;
  std::unique_ptr<ClientDirectory> directory_;
  std::shared_ptr<RevocationWatcher> watcher_;
};

TEST_F(ClientDirectoryTest, CreatedTokenValidatesToThePrincipal) {
  const auto created = Create("dashboard");
  const auto response = directory_->Validate(created.token());
  ASSERT_EQ(response.status(), authpb::VALID);
  EXPECT_EQ(response.principal().client_id(), created.client().id());
  EXPECT_EQ(response.principal().name(), "dashboard");
  EXPECT_TRUE(response.principal().permissions().all_products());
}

TEST_F(ClientDirectoryTest, InvalidTokensAreDistinguished) {
  EXPECT_EQ(directory_->Validate("garbage").status(), authpb::MALFORMED);
  EXPECT_EQ(directory_->Validate("nbt_" + std::string(43, 'A')).status(), authpb::UNKNOWN);

  const auto revoked = Create("r");
  ASSERT_TRUE(directory_->Revoke(revoked.client().id()).ok());
  EXPECT_EQ(directory_->Validate(revoked.token()).status(), authpb::TOKEN_REVOKED);

  const auto disabled = Create("d");
  authpb::UpdateClientRequest update;
  update.set_id(disabled.client().id());
  update.add_update_mask("enabled");
  update.set_enabled(false);
  ASSERT_TRUE(directory_->Update(update).ok());
  EXPECT_EQ(directory_->Validate(disabled.token()).status(), authpb::TOKEN_DISABLED);
  EXPECT_EQ(Events(),
            (std::vector{authpb::RevocationEvent::REVOKED, authpb::RevocationEvent::DISABLED}));
}

TEST_F(ClientDirectoryTest, RotateReplacesTheTokenAndDeleteForgetsIt) {
  const auto created = Create("c");
  auto rotated = directory_->Rotate(created.client().id());
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(directory_->Validate(created.token()).status(), authpb::UNKNOWN);
  EXPECT_EQ(directory_->Validate(rotated->token()).status(), authpb::VALID);
  ASSERT_TRUE(directory_->Delete(created.client().id()).ok());
  EXPECT_EQ(directory_->Validate(rotated->token()).status(), authpb::UNKNOWN);
  EXPECT_EQ(directory_->Get(created.client().id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Events(),
            (std::vector{authpb::RevocationEvent::ROTATED, authpb::RevocationEvent::DELETED}));
}

TEST_F(ClientDirectoryTest, ExpiredClientIsAnnouncedOnce) {
  authpb::CreateClientRequest request;
  request.set_name("short-lived");
  *request.mutable_expires_at() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(absl::Now()) + 200);
  auto created = directory_->Create(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(directory_->Validate(created->token()).status(), authpb::VALID);
  absl::SleepFor(absl::Milliseconds(250));  // The expiry is the behaviour under test.
  EXPECT_EQ(directory_->Validate(created->token()).status(), authpb::TOKEN_EXPIRED);
  directory_->SweepExpired();
  directory_->SweepExpired();
  EXPECT_EQ(Events(), std::vector{authpb::RevocationEvent::EXPIRED});
}

TEST_F(ClientDirectoryTest, BadInputIsRejectedAndNothingIsWritten) {
  authpb::CreateClientRequest request;
  EXPECT_EQ(directory_->Create(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_name(std::string(129, 'x'));
  EXPECT_EQ(directory_->Create(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_name("ok");
  request.mutable_permissions()->add_operations(static_cast<authpb::Operation>(42));
  EXPECT_NE(directory_->Create(request).status().message().find("unknown operation"),
            std::string::npos);
  request.mutable_permissions()->clear_operations();
  *request.mutable_expires_at() = TimeUtil::SecondsToTimestamp(1);
  EXPECT_EQ(directory_->Create(request).status().code(), absl::StatusCode::kInvalidArgument);
  authpb::ListClientsRequest list;
  EXPECT_EQ(directory_->List(list)->clients_size(), 0);
  list.set_page_size(100000);
  EXPECT_EQ(directory_->List(list).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientDirectoryTest, ListPagesInIdOrder) {
  for (int i = 0; i < 7; ++i) Create("c" + std::to_string(i));
  authpb::ListClientsRequest request;
  request.set_page_size(3);
  std::vector<std::string> ids;
  int pages = 0;
  do {
    auto page = directory_->List(request);
    ASSERT_TRUE(page.ok());
    for (const auto& client : page->clients()) ids.push_back(client.id());
    request.set_page_token(page->next_page_token());
    ++pages;
  } while (!request.page_token().empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
}

}  // namespace
}  // namespace nb::auth
