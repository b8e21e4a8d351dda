#include "ws-frontend/src/device_client.h"

#include "grpcpp/grpcpp.h"

namespace nb::frontend {

DeviceClient::DeviceClient(const std::string& target, int channels,
                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
  for (int i = 0; i < std::max(channels, 1); ++i) {
    grpc::ChannelArguments arguments;
    // Without this, channels to the same target share one subchannel (one connection).
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // A restarted device-service is found again quickly.
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2'000);
    channels_.push_back(grpc::CreateCustomChannel(target, credentials, arguments));
    stubs_.push_back(northbound::device::v1::DeviceService::NewStub(channels_.back()));
  }
}

northbound::device::v1::DeviceService::Stub& DeviceClient::NextStub() {
  return *stubs_[next_.fetch_add(1, std::memory_order_relaxed) % stubs_.size()];
}

bool DeviceClient::Reachable() const {
  for (const auto& channel : channels_) {
    const grpc_connectivity_state state = channel->GetState(true);
    if (state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN) return true;
  }
  return false;
}

}  // namespace nb::frontend
