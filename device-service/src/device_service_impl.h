#ifndef NORTHBOUND_DEVICE_SERVICE_DEVICE_SERVICE_IMPL_H_
#define NORTHBOUND_DEVICE_SERVICE_DEVICE_SERVICE_IMPL_H_

#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "device-service/src/authorizer.h"
#include "device-service/src/command_dispatcher.h"
#include "device-service/src/command_stream.h"
#include "device-service/src/device_metrics.h"
#include "device-service/src/device_registry.h"
#include "device-service/src/event_bus.h"
#include "northbound/device/v1/device_service.grpc.pb.h"

namespace nb::device {

struct ServiceOptions {
  // Events queued per subscription (a Subscribe stream, or one on a Commands stream)
  // before the oldest are dropped.
  size_t subscriber_queue = 1024;
};

class SubscribeStream;

// The gRPC face of device-service (callback API). Every call is first vouched for by the
// Authorizer; the client's permissions then decide what it may command and what listings
// and event streams show it. Reactions only hand work to the authorizer, dispatcher and
// event bus and start the next write; they never block.
class DeviceServiceImpl final : public northbound::device::v1::DeviceService::CallbackService,
                                public StreamRegistry {
 public:
  DeviceServiceImpl(DeviceRegistry& registry, CommandDispatcher& dispatcher, EventBus& bus,
                    DeviceMetrics& metrics, Authorizer& authorizer, ServiceOptions options = {});
  ~DeviceServiceImpl() override;

  grpc::ServerWriteReactor<devicepb::SendReply>* Send(
      grpc::CallbackServerContext* context, const devicepb::SendRequest* request) override;
  grpc::ServerWriteReactor<devicepb::DeviceEvent>* Subscribe(
      grpc::CallbackServerContext* context, const devicepb::SubscribeRequest* request) override;
  grpc::ServerBidiReactor<devicepb::CommandRequests, devicepb::CommandEvents>* Commands(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext* context,
                                         const devicepb::ListProductsRequest* request,
                                         devicepb::ListProductsResponse* response) override;
  grpc::ServerUnaryReactor* GetProduct(grpc::CallbackServerContext* context,
                                       const devicepb::GetProductRequest* request,
                                       devicepb::Product* response) override;
  grpc::ServerUnaryReactor* ListDevices(grpc::CallbackServerContext* context,
                                        const devicepb::ListDevicesRequest* request,
                                        devicepb::ListDevicesResponse* response) override;
  grpc::ServerUnaryReactor* GetDevice(grpc::CallbackServerContext* context,
                                      const devicepb::GetDeviceRequest* request,
                                      devicepb::Device* response) override;

  // Ends every live Subscribe stream with UNAVAILABLE, and every Commands stream once its
  // live commands are over, so that shutdown need not wait for its deadline. Called from
  // the main thread before the server shuts down.
  void EndSubscriptions();

  // The live Subscribe and Commands streams, so EndSubscriptions can reach them.
  bool Register(const std::shared_ptr<StoppableStream>& stream) override;
  void Unregister(const StoppableStream* stream) override;

 private:
  // Authorizes the call, then finishes it with what `fill(permissions)` returns.
  template <typename Fill>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, Fill fill);
  // PERMISSION_DENIED if the client may not see the product, else PRODUCT_NOT_FOUND if
  // there is no such product.
  absl::Status CheckProduct(const northbound::auth::v1::Permissions& permissions,
                            const std::string& product_key) const;
  // The devices of `product_key` (every product when empty) the client may see.
  std::vector<const DeviceEntry*> VisibleDevices(
      const northbound::auth::v1::Permissions& permissions, const std::string& product_key) const;

  DeviceRegistry& registry_;
  CommandDispatcher& dispatcher_;
  EventBus& bus_;
  DeviceMetrics& metrics_;
  Authorizer& authorizer_;
  const ServiceOptions options_;
  Mutex mu_;
  std::vector<std::shared_ptr<StoppableStream>> streams_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DEVICE_SERVICE_IMPL_H_
