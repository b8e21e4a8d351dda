#ifndef NORTHBOUND_COMMON_GRPC_SERVER_H_
#define NORTHBOUND_COMMON_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace nb {

struct GrpcServerOptions {
  std::string host = "0.0.0.0";
  int port = 0;  // 0 picks a free port.
  // HTTP/2 streams one client connection may have open at once. gRPC's default (100)
  // would queue a frontend's live subscriptions silently.
  int max_concurrent_streams = 10000;
  // Largest request message accepted.
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // TLS (and mTLS) when set; plaintext when null.
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

// A gRPC server with what every Northbound service offers: the standard health service
// (grpc.health.v1, SERVING once started), server reflection, and keepalive settings that
// detect dead peers within about a minute.
//
// Start and Shutdown are called from the main thread; Shutdown must not run on a gRPC
// callback thread, or it waits for itself.
class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, const std::vector<grpc::Service*>& services);

  ~GrpcServer();

  int port() const { return port_; }

  // Marks every service NOT_SERVING, then stops accepting calls and waits up to `grace`
  // for running calls to finish before cancelling the rest. Idempotent.
  void Shutdown(absl::Duration grace);

  // Sets the health status reported for the server as a whole ("" service name).
  void SetServing(bool serving);

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port);

  std::unique_ptr<grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace nb

#endif  // NORTHBOUND_COMMON_GRPC_SERVER_H_
