#include "ws-frontend/src/device_client.h"

#include "common/grpc_channel.h"
#include "grpcpp/grpcpp.h"

namespace nb::frontend {

DeviceClient::DeviceClient(const std::string& target, int channels,
                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
  for (int i = 0; i < std::max(channels, 1); ++i) {
    grpc::ChannelArguments arguments;
    // Without this, channels to the same target share one subchannel (one connection).
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels_.push_back(BackendChannel(target, credentials, arguments));
    stubs_.push_back(northbound::device::v1::DeviceService::NewStub(channels_.back()));
    commands_.push_back(std::make_unique<CommandChannel>(*stubs_.back(), live_calls_));
  }
}

DeviceClient::~DeviceClient() {
  Shutdown();
  live_calls_.WaitIdle(std::chrono::seconds(5));
}

void DeviceClient::Shutdown() {
  for (auto& commands : commands_) commands->Shutdown();
}

CommandChannel& DeviceClient::NextCommands() {
  return *commands_[next_commands_.fetch_add(1, std::memory_order_relaxed) % commands_.size()];
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
