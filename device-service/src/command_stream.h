#ifndef NORTHBOUND_DEVICE_SERVICE_COMMAND_STREAM_H_
#define NORTHBOUND_DEVICE_SERVICE_COMMAND_STREAM_H_

#include <memory>

#include "absl/status/status.h"
#include "device-service/src/authorizer.h"
#include "device-service/src/command_dispatcher.h"
#include "device-service/src/device_metrics.h"
#include "device-service/src/event_bus.h"
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

// Live commands and subscriptions one Commands stream may carry; past it a new one is
// refused with RATE_LIMITED (its memory is what bounds the stream's).
inline constexpr size_t kMaxCommandsPerStream = 65536;

// A subscription's window on a Commands stream when its request names none, and the
// largest allowed (SubscribeRequest.window).
inline constexpr uint32_t kDefaultEventWindow = 64;
inline constexpr uint32_t kMaxEventWindow = 1024;

// OK, or PERMISSION_DENIED when the client may not watch live events at all. Which events
// reach it is decided per event (Subscription::SetPermissions).
absl::Status CheckSubscribeAllowed(const northbound::auth::v1::Permissions& permissions);

// The subscription `caller` asked for with `topic`, queueing at most `capacity` events and
// calling `wake` as Subscription describes; PERMISSION_DENIED (counted) or the topic's
// error when refused. A direct caller sees only the devices it may watch, whatever its
// pattern says.
absl::StatusOr<std::shared_ptr<Subscription>> NewSubscription(const Caller& caller,
                                                              const std::string& topic,
                                                              size_t capacity,
                                                              std::function<void()> wake,
                                                              Authorizer& authorizer);

// What a Commands stream works with.
struct CommandServices {
  CommandDispatcher& dispatcher;
  Authorizer& authorizer;
  StreamRegistry& registry;
  EventBus& bus;
  DeviceMetrics& metrics;
  // Events queued per subscription before the oldest are dropped.
  size_t subscriber_queue;
};

// Serves one DeviceService.Commands stream: each CommandRequest is authorized with its own
// token, checked and started exactly as a Send or Subscribe; replies, events and ends of
// everything on the stream share its writes, packed. The reactor deletes itself when gRPC
// is done with it.
grpc::ServerBidiReactor<northbound::device::v1::CommandRequests,
                        northbound::device::v1::CommandEvents>*
StartCommands(grpc::CallbackServerContext* context, const CommandServices& services);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_COMMAND_STREAM_H_
