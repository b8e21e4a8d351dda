#ifndef NORTHBOUND_DEVICE_SERVICE_COMMAND_STREAM_H_
#define NORTHBOUND_DEVICE_SERVICE_COMMAND_STREAM_H_

#include <memory>

#include "absl/status/status.h"
#include "device-service/src/authorizer.h"
#include "device-service/src/command_dispatcher.h"
#include "grpcpp/grpcpp.h"
#include "northbound/device/v1/device_service.grpc.pb.h"

namespace nb::device {

// A long-lived stream that device-service's shutdown must end. Any thread.
class StoppableStream {
 public:
  virtual ~StoppableStream() = default;
  // Ends the stream with `status`, letting what it is in the middle of finish first where
  // that is bounded (a command's device waits).
  virtual void Stop(const absl::Status& status) = 0;
};

// Where a stream registers so that shutdown can reach it. Register refuses (false) once
// shutdown began. Any thread.
class StreamRegistry {
 public:
  virtual ~StreamRegistry() = default;
  virtual bool Register(const std::shared_ptr<StoppableStream>& stream) = 0;
  virtual void Unregister(const StoppableStream* stream) = 0;
};

// Live commands one Commands stream may carry; past it a new command is refused with
// RATE_LIMITED (its memory is what bounds the stream's).
inline constexpr size_t kMaxCommandsPerStream = 65536;

// Serves one DeviceService.Commands stream: each CommandRequest is authorized with its own
// token, checked and dispatched exactly as a Send; replies and ends of all its commands
// share the stream's writes, packed. The reactor deletes itself when gRPC is done with it.
grpc::ServerBidiReactor<northbound::device::v1::CommandRequests,
                        northbound::device::v1::CommandEvents>*
StartCommands(grpc::CallbackServerContext* context, CommandDispatcher& dispatcher,
              Authorizer& authorizer, StreamRegistry& registry);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_COMMAND_STREAM_H_
