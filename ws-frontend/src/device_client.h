#ifndef NORTHBOUND_WS_FRONTEND_DEVICE_CLIENT_H_
#define NORTHBOUND_WS_FRONTEND_DEVICE_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "northbound/device/v1/device_service.grpc.pb.h"
#include "ws-frontend/src/streaming_call.h"

namespace nb::frontend {

// Stubs for device-service over a pool of channels. Each channel is its own HTTP/2
// connection, so live subscriptions spread over several connections instead of queueing
// behind one connection's concurrent-stream limit. Thread-safe.
class DeviceClient {
 public:
  DeviceClient(const std::string& target, int channels,
               std::shared_ptr<grpc::ChannelCredentials> credentials);

  // The stub of the next channel, round robin.
  northbound::device::v1::DeviceService::Stub& NextStub();
  bool Reachable() const;
  // The streaming calls on these channels; shutdown waits for them before the channels go.
  LiveCalls& live_calls() { return live_calls_; }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<northbound::device::v1::DeviceService::Stub>> stubs_;
  std::atomic<size_t> next_{0};
  LiveCalls live_calls_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_DEVICE_CLIENT_H_
