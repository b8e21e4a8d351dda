#ifndef NORTHBOUND_AUTH_SERVICE_AUTH_SERVICE_IMPL_H_
#define NORTHBOUND_AUTH_SERVICE_AUTH_SERVICE_IMPL_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "auth-service/src/auth_metrics.h"
#include "auth-service/src/client_directory.h"
#include "auth-service/src/revocation_feed.h"
#include "auth-service/src/serial_executor.h"
#include "common/mutex.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

namespace nb::auth {

class WatchStream;

// AuthService: ValidateToken answers from memory on the gRPC thread; WatchRevocations
// streams the feed.
class AuthServiceImpl final : public authpb::AuthService::CallbackService {
 public:
  AuthServiceImpl(const ClientDirectory& directory, RevocationFeed& feed)
      : directory_(directory), feed_(feed) {}

  grpc::ServerUnaryReactor* ValidateToken(grpc::CallbackServerContext* context,
                                          const authpb::ValidateTokenRequest* request,
                                          authpb::ValidateTokenResponse* response) override;
  grpc::ServerWriteReactor<authpb::RevocationEvent>* WatchRevocations(
      grpc::CallbackServerContext* context,
      const authpb::WatchRevocationsRequest* request) override;

  // Ends every watch stream so shutdown need not wait. Main thread.
  void EndWatches();
  void Forget(const WatchStream* stream);

 private:
  const ClientDirectory& directory_;
  RevocationFeed& feed_;
  Mutex mu_;
  std::vector<std::shared_ptr<WatchStream>> streams_ ABSL_GUARDED_BY(mu_);
};

// ClientAdmin: every call checks the admin credential, then runs on the database thread.
class ClientAdminImpl final : public authpb::ClientAdmin::CallbackService {
 public:
  // An empty credential refuses every call: there is no way in without one.
  ClientAdminImpl(ClientDirectory& directory, SerialExecutor& executor, AuthMetrics& metrics,
                  std::string admin_credential)
      : directory_(directory),
        executor_(executor),
        metrics_(metrics),
        admin_credential_(std::move(admin_credential)) {}

  grpc::ServerUnaryReactor* CreateClient(grpc::CallbackServerContext* context,
                                         const authpb::CreateClientRequest* request,
                                         authpb::CreateClientResponse* response) override;
  grpc::ServerUnaryReactor* ListClients(grpc::CallbackServerContext* context,
                                        const authpb::ListClientsRequest* request,
                                        authpb::ListClientsResponse* response) override;
  grpc::ServerUnaryReactor* GetClient(grpc::CallbackServerContext* context,
                                      const authpb::GetClientRequest* request,
                                      authpb::Client* response) override;
  grpc::ServerUnaryReactor* UpdateClient(grpc::CallbackServerContext* context,
                                         const authpb::UpdateClientRequest* request,
                                         authpb::Client* response) override;
  grpc::ServerUnaryReactor* RevokeClient(grpc::CallbackServerContext* context,
                                         const authpb::RevokeClientRequest* request,
                                         authpb::Client* response) override;
  grpc::ServerUnaryReactor* RotateToken(grpc::CallbackServerContext* context,
                                        const authpb::RotateTokenRequest* request,
                                        authpb::RotateTokenResponse* response) override;
  grpc::ServerUnaryReactor* DeleteClient(grpc::CallbackServerContext* context,
                                         const authpb::DeleteClientRequest* request,
                                         authpb::DeleteClientResponse* response) override;

 private:
  template <typename Response, typename Work>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, const char* operation,
                                Response* response, Work work);
  bool Authorized(const grpc::CallbackServerContext& context) const;

  ClientDirectory& directory_;
  SerialExecutor& executor_;
  AuthMetrics& metrics_;
  const std::string admin_credential_;
};

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_AUTH_SERVICE_IMPL_H_
