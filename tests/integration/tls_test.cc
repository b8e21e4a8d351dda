// TLS on every hop: wss:// between clients and ws-frontend, TLS and mTLS between the
// services. Certificates are made with openssl when the test runs; the wss:// client is
// Python's websockets and ssl modules (tests/peers/wss_client.py), not our code.
#include "common/tls.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/process.h"
#include "tests/support/seed_frames.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

using std::chrono::seconds;

std::string OneLine(const std::string& frame) { return absl::StrReplaceAll(frame, {{"\n", ""}}); }

// Runs the wss:// peer to the end.
CommandResult Wss(int port, const std::string& token, const std::string& ca,
                  const std::string& send = "") {
  std::string command =
      absl::StrCat("/usr/bin/python3 ", NB_WSS_CLIENT_PEER, " wss://127.0.0.1:", port,
                   "/messaging/", token, " --ca ", ca, " --timeout 20");
  if (!send.empty()) absl::StrAppend(&command, " --send '", OneLine(send), "'");
  return RunCommand(command);
}

// Every service with TLS, the gRPC hops with mTLS; one stack for the whole suite.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    pki_ = new TestPki(dir_->path());
    ASSERT_TRUE(pki_->MakeCa("ca") && pki_->Issue("ca", "server") && pki_->Issue("ca", "client") &&
                pki_->MakeCa("other-ca") && pki_->Issue("other-ca", "stranger"))
        << pki_->error();
    const std::vector<std::string> serve = {"--tls_cert_file=" + pki_->Cert("server"),
                                            "--tls_key_file=" + pki_->Key("server")};
    const std::vector<std::string> require_clients = {"--tls_client_ca_file=" + pki_->Cert("ca")};
    const std::vector<std::string> call = {"--tls_ca_file=" + pki_->Cert("ca"),
                                           "--tls_client_cert_file=" + pki_->Cert("client"),
                                           "--tls_client_key_file=" + pki_->Key("client")};
    StackOptions options;
    options.auth_flags = Concat({serve, require_clients});
    options.device_flags = Concat({serve, require_clients, call});
    options.frontend_flags = Concat({serve, call});
    options.admin_credentials = ClientCredentials(true);
    stack_ = new Stack(options);
  }
  static void TearDownTestSuite() {
    delete stack_;
    delete pki_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(stack_->started()) << stack_->logs(); }

  static std::vector<std::string> Concat(std::vector<std::vector<std::string>> parts) {
    std::vector<std::string> all;
    for (auto& part : parts) all.insert(all.end(), part.begin(), part.end());
    return all;
  }

  static std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(bool with_certificate) {
    TlsClientFiles files{pki_->Cert("ca"), "", ""};
    if (with_certificate) files = {pki_->Cert("ca"), pki_->Cert("client"), pki_->Key("client")};
    return *GrpcChannelCredentials(files);
  }

  static bool Healthy(int port, std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, {}, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }

  static TempDir* dir_;
  static TestPki* pki_;
  static Stack* stack_;
};

TempDir* TlsTest::dir_ = nullptr;
TestPki* TlsTest::pki_ = nullptr;
Stack* TlsTest::stack_ = nullptr;

TEST_F(TlsTest, WssRoundTripThroughEncryptedServices) {
  const CommandResult result =
      Wss(stack_->ws_port(), stack_->FullToken(), pki_->Cert("ca"), kSeedReadProperty);
  ASSERT_EQ(result.exit_status, 0) << result.output << stack_->logs();
  EXPECT_NE(result.output.find(R"("type": "result")"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("temperature"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(R"("type": "complete")"), std::string::npos) << result.output;
}

TEST_F(TlsTest, PlainWebSocketOnTheWssPortIsRefused) {
  WsClient plain;
  EXPECT_FALSE(plain.Connect(stack_->ws_port(), "/messaging/" + stack_->FullToken()).upgraded);
}

TEST_F(TlsTest, ACertificateFromAnotherCaIsRefused) {
  const CommandResult result = Wss(stack_->ws_port(), "nbt_x", pki_->Cert("other-ca"));
  EXPECT_EQ(result.exit_status, 3) << result.output;
  EXPECT_NE(result.output.find("CERTIFICATE_VERIFY_FAILED"), std::string::npos) << result.output;
}

TEST_F(TlsTest, ServicesRequiringClientCertificatesRefuseCallersWithout) {
  for (const auto& [name, port] : {std::pair{"device-service", stack_->device().port("grpc_port")},
                                   {"auth-service", stack_->auth().port("grpc_port")}}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(Healthy(port, ClientCredentials(true)));
    EXPECT_FALSE(Healthy(port, ClientCredentials(false)));
    EXPECT_FALSE(Healthy(port, grpc::InsecureChannelCredentials()));
  }
}

TEST_F(TlsTest, NbctlManagesClientsOverMutualTls) {
  const std::string base = absl::StrCat("NB_ADMIN_TOKEN=", kStackAdminCredential, " ", NB_NBCTL_BIN,
                                        " --auth 127.0.0.1:", stack_->auth().port("grpc_port"),
                                        " --tls-ca ", pki_->Cert("ca"));
  const CommandResult with_certificate = RunCommand(
      absl::StrCat(base, " --tls-cert ", pki_->Cert("client"), " --tls-key ", pki_->Key("client"),
                   " client create --name over-tls --all-products"));
  EXPECT_EQ(with_certificate.exit_status, 0) << with_certificate.output;
  EXPECT_NE(with_certificate.output.find("token: nbt_"), std::string::npos)
      << with_certificate.output;
  // auth-service requires a client certificate: the call fails, and says so.
  const CommandResult without = RunCommand(base + " client list");
  EXPECT_EQ(without.exit_status, 1) << without.output;
  // A certificate without its key is a usage error.
  const CommandResult half =
      RunCommand(base + " --tls-cert " + pki_->Cert("client") + " client list");
  EXPECT_EQ(half.exit_status, 2) << half.output;
}

TEST(TlsAloneTest, AnExpiredCertificateIsRefused) {
  TempDir dir;
  TestPki pki(dir.path());
  ASSERT_TRUE(pki.MakeCa("ca") && pki.Issue("ca", "expired", true)) << pki.error();
  Stack stack({.frontend_flags = {"--tls_cert_file=" + pki.Cert("expired"),
                                  "--tls_key_file=" + pki.Key("expired")}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  const CommandResult result = Wss(stack.ws_port(), "nbt_x", pki.Cert("ca"));
  EXPECT_EQ(result.exit_status, 3) << result.output;
  EXPECT_NE(result.output.find("certificate has expired"), std::string::npos) << result.output;
}

// Swaps the files the way a Secret volume does: the new version appears at once.
void Install(const TestPki& pki, const std::string& name, const std::string& cert,
             const std::string& key) {
  for (const auto& [from, to] : {std::pair{pki.Cert(name), cert}, {pki.Key(name), key}}) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream(to + ".tmp", std::ios::binary) << in.rdbuf();
    std::rename((to + ".tmp").c_str(), to.c_str());
  }
}

TEST(TlsAloneTest, ARotatedCertificateReachesNewConnectionsAndOpenOnesStay) {
  TempDir dir;
  TestPki pki(dir.path());
  ASSERT_TRUE(pki.MakeCa("old-ca") && pki.Issue("old-ca", "old") && pki.MakeCa("new-ca") &&
              pki.Issue("new-ca", "new"))
      << pki.error();
  const std::string cert = dir.File("live.pem");
  const std::string key = dir.File("live.key");
  Install(pki, "old", cert, key);
  Stack stack({.frontend_flags = {"--tls_cert_file=" + cert, "--tls_key_file=" + key,
                                  "--tls_reload_interval_ms=100"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();

  // A session opened on the old certificate, kept open across the rotation.
  const std::string release = dir.File("release");
  Process held = Process::Start(
      {"/usr/bin/python3", NB_WSS_CLIENT_PEER,
       absl::StrCat("wss://127.0.0.1:", stack.ws_port(), "/messaging/", token), "--ca",
       pki.Cert("old-ca"), "--send", R"({"type":"ping","id":"before"})", "--hold", release},
      {}, dir.File("held.log"));
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(dir.File("held.log")).find("pong") != std::string::npos; },
              seconds(20)))
      << ReadFile(dir.File("held.log"));

  Install(pki, "new", cert, key);
  EXPECT_TRUE(
      WaitFor([&] { return Wss(stack.ws_port(), token, pki.Cert("new-ca")).exit_status == 0; },
              seconds(20)))
      << stack.logs();
  EXPECT_EQ(Wss(stack.ws_port(), token, pki.Cert("old-ca")).exit_status, 3);
  EXPECT_GE(ScrapeMetric(stack.frontend().port("metrics_port"),
                         R"(northbound_frontend_tls_reloads_total{result="ok"})"),
            1);

  std::ofstream(release) << "go";
  EXPECT_EQ(held.Wait(seconds(20)), std::optional<int>(0)) << ReadFile(dir.File("held.log"));
  EXPECT_NE(ReadFile(dir.File("held.log")).find("still open"), std::string::npos)
      << ReadFile(dir.File("held.log"));
}

}  // namespace
}  // namespace nb::testing
