// auth-service over real gRPC against the real binary.
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "northbound/auth/v1/auth.grpc.pb.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {
namespace {

namespace authpb = northbound::auth::v1;

constexpr char kAdminCredential[] = "test-admin-credential-0123456789";

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start() {
    service_ = std::make_unique<ServiceProcess>(ServiceProcess::Start(
        NB_AUTH_SERVICE_BIN, dir_.path(), "auth_service",
        {"--grpc_port=0", "--metrics_port=0", "--database=" + dir_.File("data/auth.db")},
        {{"NB_ADMIN_TOKEN", kAdminCredential}}));
    ASSERT_TRUE(service_->started()) << service_->log();
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", service_->port("grpc_port")),
                                       grpc::InsecureChannelCredentials());
    auth_ = authpb::AuthService::NewStub(channel);
    admin_ = authpb::ClientAdmin::NewStub(channel);
  }

  void Stop(int signal_number) {
    service_->process().Signal(signal_number);
    const std::optional<int> status = service_->process().Wait(std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value());
    if (signal_number == SIGTERM) {
      EXPECT_EQ(*status, 0) << service_->log();
    }
  }

  std::unique_ptr<grpc::ClientContext> Admin(const std::string& credential = kAdminCredential) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!credential.empty()) context->AddMetadata("authorization", "Bearer " + credential);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  authpb::CreateClientResponse Create(const std::string& name) {
    authpb::CreateClientRequest request;
    request.set_name(name);
    request.mutable_permissions()->set_all_products(true);
    request.mutable_permissions()->add_operations(authpb::READ_PROPERTY);
    authpb::CreateClientResponse response;
    const grpc::Status status = admin_->CreateClient(Admin().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  authpb::TokenStatus Validate(const std::string& token) {
    grpc::ClientContext context;
    authpb::ValidateTokenRequest request;
    request.set_token(token);
    authpb::ValidateTokenResponse response;
    const grpc::Status status = auth_->ValidateToken(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
  std::unique_ptr<authpb::AuthService::Stub> auth_;
  std::unique_ptr<authpb::ClientAdmin::Stub> admin_;
};

TEST_F(AuthServiceTest, CreateValidateRevokeValidateFails) {
  const authpb::CreateClientResponse created = Create("demo");
  EXPECT_EQ(created.client().state(), authpb::ACTIVE);
  EXPECT_EQ(Validate(created.token()), authpb::VALID);

  authpb::RevokeClientRequest revoke;
  revoke.set_id(created.client().id());
  authpb::Client revoked;
  ASSERT_TRUE(admin_->RevokeClient(Admin().get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.state(), authpb::REVOKED);
  EXPECT_EQ(Validate(created.token()), authpb::TOKEN_REVOKED);
  EXPECT_EQ(Validate("not-a-token"), authpb::MALFORMED);
}

TEST_F(AuthServiceTest, RevocationStreamDelivers) {
  const authpb::CreateClientResponse created = Create("watched");
  grpc::ClientContext watch_context;
  auto watch = auth_->WatchRevocations(&watch_context, {});
  watch->WaitForInitialMetadata();

  authpb::RevokeClientRequest revoke;
  revoke.set_id(created.client().id());
  authpb::Client revoked;
  ASSERT_TRUE(admin_->RevokeClient(Admin().get(), revoke, &revoked).ok());
  authpb::RevocationEvent event;
  ASSERT_TRUE(watch->Read(&event));
  EXPECT_EQ(event.client_id(), created.client().id());
  EXPECT_EQ(event.kind(), authpb::RevocationEvent::REVOKED);

  authpb::RotateTokenRequest rotate;
  rotate.set_id(created.client().id());
  authpb::RotateTokenResponse rotated;
  ASSERT_TRUE(admin_->RotateToken(Admin().get(), rotate, &rotated).ok());
  ASSERT_TRUE(watch->Read(&event));
  EXPECT_EQ(event.kind(), authpb::RevocationEvent::ROTATED);
  EXPECT_EQ(Validate(rotated.token()), authpb::VALID);
  EXPECT_EQ(Validate(created.token()), authpb::UNKNOWN);
  watch_context.TryCancel();
  watch->Finish();
}

TEST_F(AuthServiceTest, RestartKeepsEveryClient) {
  std::vector<authpb::CreateClientResponse> created;
  for (int i = 0; i < 5; ++i) created.push_back(Create(absl::StrCat("client-", i)));
  Stop(SIGTERM);
  Start();
  for (const auto& client : created) EXPECT_EQ(Validate(client.token()), authpb::VALID);
  authpb::ListClientsResponse list;
  ASSERT_TRUE(admin_->ListClients(Admin().get(), {}, &list).ok());
  EXPECT_EQ(list.clients_size(), 5);
}

TEST_F(AuthServiceTest, ConcurrentCreatesAllLand) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> ids;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const authpb::CreateClientResponse response = Create(absl::StrCat("c-", t, "-", i));
        std::lock_guard<std::mutex> lock(mu);
        ids.insert(response.client().id());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ids.size(), 200u);
  authpb::ListClientsRequest request;
  request.set_page_size(500);
  authpb::ListClientsResponse list;
  ASSERT_TRUE(admin_->ListClients(Admin().get(), request, &list).ok());
  EXPECT_EQ(list.clients_size(), 200);
}

TEST_F(AuthServiceTest, AdminNeedsTheRightCredential) {
  authpb::ListClientsResponse list;
  EXPECT_EQ(admin_->ListClients(Admin("wrong-credential-0123456789").get(), {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(admin_->ListClients(Admin("").get(), {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  authpb::CreateClientRequest request;
  request.set_name("sneaky");
  authpb::CreateClientResponse response;
  EXPECT_EQ(admin_->CreateClient(Admin("x").get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(admin_->ListClients(Admin().get(), {}, &list).ok());
  EXPECT_EQ(list.clients_size(), 0);
}

TEST_F(AuthServiceTest, BadInputIsInvalidArgument) {
  authpb::CreateClientRequest request;
  authpb::CreateClientResponse response;
  const grpc::Status empty = admin_->CreateClient(Admin().get(), request, &response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(empty.error_message(), "name must not be empty");
  authpb::ListClientsRequest list_request;
  list_request.set_page_size(1u << 30);
  authpb::ListClientsResponse list;
  EXPECT_EQ(admin_->ListClients(Admin().get(), list_request, &list).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  authpb::GetClientRequest get;
  get.set_id("c_missing");
  authpb::Client client;
  EXPECT_EQ(admin_->GetClient(Admin().get(), get, &client).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AuthServiceTest, KillDuringWriteBurstLosesNoAcknowledgedWrite) {
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        authpb::CreateClientRequest request;
        request.set_name(absl::StrCat("burst-", t, "-", i));
        authpb::CreateClientResponse response;
        if (!admin_->CreateClient(Admin().get(), request, &response).ok()) return;
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(response.token());
      }
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return acknowledged.size() >= 50;
      },
      std::chrono::seconds(30)));
  Stop(SIGKILL);
  stop.store(true);
  for (auto& writer : writers) writer.join();
  Start();
  std::lock_guard<std::mutex> lock(mu);
  for (const std::string& token : acknowledged) EXPECT_EQ(Validate(token), authpb::VALID);
}

TEST_F(AuthServiceTest, NbctlCreatesAClientAndPrintsItsTokenOnce) {
  const std::string nbctl = absl::StrCat("NB_ADMIN_TOKEN=", kAdminCredential, " ", NB_NBCTL_BIN,
                                         " --auth 127.0.0.1:", service_->port("grpc_port"));
  const CommandResult created =
      RunCommand(nbctl + " client create --name cli-demo --products sagoo-product");
  ASSERT_EQ(created.exit_status, 0) << created.output;
  const size_t at = created.output.find("token: ");
  ASSERT_NE(at, std::string::npos) << created.output;
  const std::string token = created.output.substr(at + 7, 47);
  EXPECT_EQ(Validate(token), authpb::VALID);

  const CommandResult listed = RunCommand(nbctl + " client list");
  EXPECT_EQ(listed.exit_status, 0);
  EXPECT_NE(listed.output.find("cli-demo"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find(token), std::string::npos) << "list must not show tokens";

  const CommandResult refused = RunCommand(absl::StrCat(
      NB_NBCTL_BIN, " --auth 127.0.0.1:", service_->port("grpc_port"), " client list"));
  EXPECT_NE(refused.exit_status, 0);
}

}  // namespace
}  // namespace nb::testing
