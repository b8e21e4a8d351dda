#ifndef NORTHBOUND_WS_FRONTEND_DEVICE_CLIENT_H_
#define NORTHBOUND_WS_FRONTEND_DEVICE_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "northbound/device/v1/device_service.grpc.pb.h"
#include "ws-frontend/src/command_channel.h"
#include "ws-frontend/src/streaming_call.h"

namespace nb::frontend {

// Stubs for device-service over a pool of channels. Each channel is its own HTTP/2
// connection, so live subscriptions spread over several connections instead of queueing
// behind one connection's concurrent-stream limit; each also carries one long-lived
// Commands stream (CommandChannel) for the commands. Thread-safe.
class DeviceClient {
 public:
  DeviceClient(const std::string& target, int channels,
               std::shared_ptr<grpc::ChannelCredentials> credentials);
  // Shuts down and waits (bounded) for the calls still live.
  ~DeviceClient();

  // The stub of the next channel, round robin.
  northbound::device::v1::DeviceService::Stub& NextStub();
  // The command stream of the next channel, round robin.
  CommandChannel& NextCommands();
  bool Reachable() const;
  // The streaming calls on these channels; shutdown waits for them before the channels go.
  LiveCalls& live_calls() { return live_calls_; }
  // Closes the command streams (their commands end); for shutdown, after the sessions.
  void Shutdown();

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<northbound::device::v1::DeviceService::Stub>> stubs_;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> next_commands_{0};
  LiveCalls live_calls_;
  // After live_calls_: they count into it until gone.
  std::vector<std::unique_ptr<CommandChannel>> commands_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_DEVICE_CLIENT_H_
