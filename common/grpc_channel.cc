#include "common/grpc_channel.h"

namespace nb {

std::shared_ptr<grpc::Channel> BackendChannel(const std::string& target,
                                              std::shared_ptr<grpc::ChannelCredentials> credentials,
                                              grpc::ChannelArguments arguments) {
  // The servers (common/grpc_server.cc) accept pings this often without calls in flight.
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2'000);
  // A peer that comes back at a new address (a restarted pod) is looked up again after
  // 2 s rather than gRPC's default 30 s.
  arguments.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 2'000);
  return grpc::CreateCustomChannel(target, credentials, arguments);
}

}  // namespace nb
