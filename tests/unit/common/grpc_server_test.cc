#include "common/grpc_server.h"

#include "common/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace nb {
namespace {

using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus Check(int port) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  HealthCheckResponse response;
  if (!stub->Check(&context, request, &response).ok()) return HealthCheckResponse::UNKNOWN;
  return response.status();
}

TEST(GrpcServerTest, PicksFreePortAndReportsServing) {
  GrpcServerOptions options;
  options.host = "127.0.0.1";
  auto server = GrpcServer::Start(options, {});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  EXPECT_EQ(Check((*server)->port()), HealthCheckResponse::SERVING);
  (*server)->SetServing(false);
  EXPECT_EQ(Check((*server)->port()), HealthCheckResponse::NOT_SERVING);
  (*server)->Shutdown(absl::Seconds(1));
  (*server)->Shutdown(absl::Seconds(1));  // Idempotent.
}

TEST(GrpcServerTest, TakenPortIsAnError) {
  GrpcServerOptions options;
  options.host = "127.0.0.1";
  auto first = GrpcServer::Start(options, {});
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  auto second = GrpcServer::Start(options, {});
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace nb
