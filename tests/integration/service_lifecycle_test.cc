// Each binary starts on free ports, reports healthy, serves a valid Prometheus exposition
// and exits 0 within 5 s of SIGTERM.
#include <signal.h>

#include <fstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/http_get.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {
namespace {

struct Binary {
  const char* name;
  const char* path;
  bool grpc;
  const char* extra_flag;
};

void PrintTo(const Binary& binary, std::ostream* out) { *out << binary.name; }

class ServiceLifecycleTest : public ::testing::TestWithParam<Binary> {};

bool GrpcHealthy(int port) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  return status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

TEST_P(ServiceLifecycleTest, ServesHealthAndMetricsAndStopsCleanlyOnSigterm) {
  const Binary& binary = GetParam();
  TempDir dir;
  std::vector<std::string> args = {"--metrics_port=0"};
  if (binary.grpc) {
    args.push_back("--grpc_port=0");
  } else {
    args.push_back("--port=0");
  }
  if (binary.extra_flag[0] != 0) args.push_back(binary.extra_flag);
  ServiceProcess service = ServiceProcess::Start(binary.path, dir.path(), binary.name, args,
                                                 {{"NB_DATA_DIR", dir.path()}});
  ASSERT_TRUE(service.started()) << service.log();

  if (binary.grpc) {
    EXPECT_TRUE(
        WaitFor([&] { return GrpcHealthy(service.port("grpc_port")); }, std::chrono::seconds(10)))
        << service.log();
  } else {
    const HttpResult health = HttpGet(service.port("http_port"), "/healthz");
    EXPECT_EQ(health.status, 200) << service.log();
    EXPECT_EQ(HttpGet(service.port("http_port"), "/nowhere").status, 404);
  }

  const HttpResult metrics = HttpGet(service.port("metrics_port"), "/metrics");
  ASSERT_EQ(metrics.status, 200) << service.log();
  EXPECT_NE(metrics.body.find("# TYPE"), std::string::npos) << metrics.body;
  const std::string exposition = dir.File("metrics.txt");
  std::ofstream(exposition) << metrics.body;
  const CommandResult check =
      RunCommand(std::string(NB_PROMTOOL) + " check metrics < " + exposition);
  EXPECT_EQ(check.exit_status, 0) << check.output << "\n" << metrics.body;

  service.process().Signal(SIGTERM);
  const std::optional<int> exit_status = service.process().Wait(std::chrono::seconds(5));
  ASSERT_TRUE(exit_status.has_value()) << "still running 5 s after SIGTERM\n" << service.log();
  EXPECT_EQ(*exit_status, 0) << service.log();
}

INSTANTIATE_TEST_SUITE_P(AllBinaries, ServiceLifecycleTest,
                         ::testing::Values(Binary{"device_service", NB_DEVICE_SERVICE_BIN, true,
                                                  "--fleet=" NB_DEMO_FLEET},
                                           Binary{"auth_service", NB_AUTH_SERVICE_BIN, true, ""},
                                           Binary{"ws_frontend", NB_WS_FRONTEND_BIN, false, ""}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace nb::testing
