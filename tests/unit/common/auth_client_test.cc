#include "common/auth_client.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "boost/asio/io_context.hpp"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

namespace nb {
namespace {

namespace authpb = northbound::auth::v1;

// An auth-service that ends every revocation watch as soon as it has opened it, the way a
// restarting auth-service does: initial metadata, then UNAVAILABLE.
class EndingWatchService final : public authpb::AuthService::CallbackService {
 public:
  grpc::ServerWriteReactor<authpb::RevocationEvent>* WatchRevocations(
      grpc::CallbackServerContext*, const authpb::WatchRevocationsRequest*) override {
    class Reactor final : public grpc::ServerWriteReactor<authpb::RevocationEvent> {
     public:
      Reactor() { StartSendInitialMetadata(); }
      void OnSendInitialMetadataDone(bool) override {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "auth-service restarting"));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor;
  }
};

// A service stopping (SIGTERM) while auth-service ends the watch: Stop and the watch's end
// cross on two threads. Stop must neither touch the ended watch nor return before its
// call is gone, and no callback may come after it. Each round stops at a different moment
// after the watch opened, to cross the watch's end at every point of it.
TEST(AuthClientTest, StopsCleanlyWhileAuthServiceEndsTheWatch) {
  EndingWatchService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  // Runs the watch's reconnect timer; never run here, so each watch opens once.
  boost::asio::io_context io;

  for (int round = 0; round < 400; ++round) {
    std::atomic<bool> stopped = false;
    std::atomic<bool> called_after_stop = false;
    absl::Notification opened;
    {
      AuthClient client(channel, io, std::chrono::seconds(1), std::chrono::seconds(1));
      client.StartWatch(
          [&](const std::string&) { called_after_stop = called_after_stop || stopped.load(); },
          [&] {
            called_after_stop = called_after_stop || stopped.load();
            opened.Notify();
          });
      ASSERT_TRUE(opened.WaitForNotificationWithTimeout(absl::Seconds(10))) << "round " << round;
      const auto stop_at =
          std::chrono::steady_clock::now() + std::chrono::microseconds(round % 100 * 2);
      while (std::chrono::steady_clock::now() < stop_at) {
      }
      const auto began = std::chrono::steady_clock::now();
      client.Stop();
      stopped = true;
      // Stop waits for the watch's end, which is on its way: never its 5 s limit.
      EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(4))
          << "round " << round;
    }
    EXPECT_FALSE(called_after_stop) << "round " << round;
  }
  server->Shutdown();
}

}  // namespace
}  // namespace nb
