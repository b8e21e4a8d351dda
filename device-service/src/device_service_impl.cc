#include "device-service/src/device_service_impl.h"

#include <algorithm>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/permissions.h"
#include "common/status.h"
#include "device-service/src/command_stream.h"
#include "device-service/src/send_reactor.h"

namespace nb::device {

namespace authpb = northbound::auth::v1;

// Shared state of one Subscribe stream; the same locking scheme as SendStream
// (send_reactor.cc).
class SubscribeStream final : public GuardedStream, public StoppableStream {
 public:
  SubscribeStream(grpc::ServerWriteReactor<devicepb::DeviceEvent>* reactor,
                  grpc::CallbackServerContext* context)
      : reactor_(reactor), context_(context) {}

  void Attach(std::shared_ptr<Subscription> subscription) {
    MutexLock lock(mu_);
    subscription_ = std::move(subscription);
  }
  std::shared_ptr<Subscription> subscription() const {
    MutexLock lock(mu_);
    return subscription_;
  }

  // Wakes the writer: an event is queued, a write finished, or the stream must end.
  void Pump() {
    MutexLock lock(mu_);
    WriteStep step = WriteStep::kNothing;
    absl::Status status;
    if (writing_ || finished_) {
      step = WriteStep::kNothing;
    } else if (end_) {
      finished_ = true;
      step = WriteStep::kFinish;
      status = *end_;
    } else if (subscription_ && subscription_->Take(current_)) {
      writing_ = true;
      step = WriteStep::kWrite;
    }
    lock.Unlock();
    if (step == WriteStep::kWrite) reactor_->StartWrite(&current_);
    if (step == WriteStep::kFinish) reactor_->Finish(ToGrpcStatus(status, *context_));
  }

  void OnWriteDone(bool ok) {
    {
      MutexLock lock(mu_);
      writing_ = false;
      if (!ok && !end_) end_ = absl::CancelledError("cancelled");
    }
    Pump();
  }

  // Ends a stream that never started.
  void Reject(const absl::Status& status) {
    {
      MutexLock lock(mu_);
      if (finished_) return;
      finished_ = true;
    }
    reactor_->Finish(ToGrpcStatus(status, *context_));
  }

  void End(const absl::Status& status) {
    {
      MutexLock lock(mu_);
      if (!end_) end_ = status;
    }
    Pump();
  }
  void Stop(const absl::Status& status) override { End(status); }

  void Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) override {
    if (!permissions.ok()) return End(permissions.status());
    if (absl::Status allowed = CheckSubscribeAllowed(**permissions); !allowed.ok()) {
      return End(allowed);
    }
    if (std::shared_ptr<Subscription> subscription = this->subscription()) {
      subscription->SetPermissions(*permissions);
    }
  }

 private:
  grpc::ServerWriteReactor<devicepb::DeviceEvent>* const reactor_;
  grpc::CallbackServerContext* const context_;
  mutable Mutex mu_;
  std::shared_ptr<Subscription> subscription_ ABSL_GUARDED_BY(mu_);
  devicepb::DeviceEvent current_;
  // The initial metadata, sent once the subscription is live, is the first write.
  bool writing_ ABSL_GUARDED_BY(mu_) = true;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);
};

namespace {

class SubscribeReactor final : public grpc::ServerWriteReactor<devicepb::DeviceEvent> {
 public:
  SubscribeReactor(DeviceServiceImpl& service, grpc::CallbackServerContext* context, EventBus& bus,
                   DeviceMetrics& metrics, Authorizer& authorizer)
      : service_(service),
        bus_(bus),
        metrics_(metrics),
        authorizer_(authorizer),
        stream_(std::make_shared<SubscribeStream>(this, context)) {}

  const std::shared_ptr<SubscribeStream>& stream() const { return stream_; }

  // Written once by the authorization's answer, before the stream can finish.
  void SetCaller(Caller caller) { caller_ = std::move(caller); }

  void OnSendInitialMetadataDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->End(absl::CancelledError("cancelled")); }
  void OnDone() override {
    if (std::shared_ptr<Subscription> subscription = stream_->subscription()) {
      bus_.Remove(subscription.get());
      metrics_.SetSubscriptions(static_cast<double>(bus_.size()));
    }
    authorizer_.Untrack(caller_, stream_.get());
    service_.Unregister(stream_.get());
    delete this;
  }

 private:
  DeviceServiceImpl& service_;
  EventBus& bus_;
  DeviceMetrics& metrics_;
  Authorizer& authorizer_;
  std::shared_ptr<SubscribeStream> stream_;
  Caller caller_;
};

}  // namespace

DeviceServiceImpl::DeviceServiceImpl(DeviceRegistry& registry, CommandDispatcher& dispatcher,
                                     EventBus& bus, DeviceMetrics& metrics, Authorizer& authorizer,
                                     ServiceOptions options)
    : registry_(registry),
      dispatcher_(dispatcher),
      bus_(bus),
      metrics_(metrics),
      authorizer_(authorizer),
      options_(options) {}

DeviceServiceImpl::~DeviceServiceImpl() = default;

bool DeviceServiceImpl::Register(const std::shared_ptr<StoppableStream>& stream) {
  MutexLock lock(mu_);
  if (ending_) return false;
  streams_.push_back(stream);
  return true;
}

void DeviceServiceImpl::Unregister(const StoppableStream* stream) {
  MutexLock lock(mu_);
  std::erase_if(streams_, [&](const auto& s) { return s.get() == stream; });
}

void DeviceServiceImpl::EndSubscriptions() {
  std::vector<std::shared_ptr<StoppableStream>> streams;
  {
    MutexLock lock(mu_);
    ending_ = true;
    streams = streams_;
  }
  for (const auto& stream : streams) {
    stream->Stop(absl::UnavailableError("device-service is stopping"));
  }
}

grpc::ServerWriteReactor<devicepb::SendReply>* DeviceServiceImpl::Send(
    grpc::CallbackServerContext* context, const devicepb::SendRequest* request) {
  return StartSend(context, *request, dispatcher_, authorizer_);
}

grpc::ServerBidiReactor<devicepb::CommandRequests, devicepb::CommandEvents>*
DeviceServiceImpl::Commands(grpc::CallbackServerContext* context) {
  return StartCommands(context, CommandServices{dispatcher_, authorizer_, *this, bus_, metrics_,
                                                options_.subscriber_queue});
}

grpc::ServerWriteReactor<devicepb::DeviceEvent>* DeviceServiceImpl::Subscribe(
    grpc::CallbackServerContext* context, const devicepb::SubscribeRequest* request) {
  auto* reactor = new SubscribeReactor(*this, context, bus_, metrics_, authorizer_);
  // The reactor lives until OnDone, which comes only after the stream finished, so the
  // authorization's answer always finds it.
  authorizer_.Authorize(*context, [this, reactor, request](absl::StatusOr<Caller> caller) {
    const std::shared_ptr<SubscribeStream>& stream = reactor->stream();
    if (!caller.ok()) return stream->Reject(caller.status());
    // The bus wakes the stream from publishing threads; the weak pointer keeps a late
    // wake from touching a stream that is gone.
    std::weak_ptr<SubscribeStream> weak = stream;
    absl::StatusOr<std::shared_ptr<Subscription>> subscription = NewSubscription(
        *caller, request->topic(), options_.subscriber_queue,
        [weak] {
          if (auto alive = weak.lock()) alive->Pump();
        },
        authorizer_);
    if (!subscription.ok()) return stream->Reject(subscription.status());
    stream->Attach(*subscription);
    if (!Register(stream)) {
      return stream->Reject(absl::UnavailableError("device-service is stopping"));
    }
    reactor->SetCaller(*caller);
    authorizer_.Track(*caller, stream);
    bus_.Add(*std::move(subscription));
    metrics_.SetSubscriptions(static_cast<double>(bus_.size()));
    // Tells the caller the subscription is live: events published from now on reach it.
    reactor->StartSendInitialMetadata();
  });
  return reactor;
}

template <typename Fill>
grpc::ServerUnaryReactor* DeviceServiceImpl::Unary(grpc::CallbackServerContext* context,
                                                   Fill fill) {
  auto* reactor = context->DefaultReactor();
  authorizer_.Authorize(*context, [reactor, context, fill](absl::StatusOr<Caller> caller) {
    const absl::Status status = caller.ok() ? fill(*caller->permissions) : caller.status();
    reactor->Finish(ToGrpcStatus(status, *context));
  });
  return reactor;
}

grpc::ServerUnaryReactor* DeviceServiceImpl::ListProducts(
    grpc::CallbackServerContext* context, const devicepb::ListProductsRequest*,
    devicepb::ListProductsResponse* response) {
  return Unary(context, [this, response](const authpb::Permissions& permissions) {
    for (const auto& model : registry_.products()) {
      if (!Covers(permissions, model->product_key(), "")) continue;
      devicepb::Product& product = *response->add_products();
      product = model->product();
      product.set_device_count(
          static_cast<uint32_t>(VisibleDevices(permissions, model->product_key()).size()));
    }
    return absl::OkStatus();
  });
}

absl::Status DeviceServiceImpl::CheckProduct(const authpb::Permissions& permissions,
                                             const std::string& product_key) const {
  if (!Covers(permissions, product_key, "")) {
    authorizer_.CountDenied();
    return ErrorStatus(ErrorCode::PERMISSION_DENIED,
                       absl::StrCat("this client may not see product ", Quoted(product_key)));
  }
  if (registry_.FindProduct(product_key) == nullptr) {
    return ErrorStatus(ErrorCode::PRODUCT_NOT_FOUND,
                       absl::StrCat("product ", Quoted(product_key), " does not exist"));
  }
  return absl::OkStatus();
}

std::vector<const DeviceEntry*> DeviceServiceImpl::VisibleDevices(
    const authpb::Permissions& permissions, const std::string& product_key) const {
  std::vector<const DeviceEntry*> visible;
  for (const DeviceEntry* entry : registry_.DevicesOf(product_key)) {
    if (Covers(permissions, entry->config.product_key, entry->config.key)) {
      visible.push_back(entry);
    }
  }
  return visible;
}

grpc::ServerUnaryReactor* DeviceServiceImpl::GetProduct(grpc::CallbackServerContext* context,
                                                        const devicepb::GetProductRequest* request,
                                                        devicepb::Product* response) {
  return Unary(context, [this, request, response](const authpb::Permissions& permissions) {
    if (absl::Status s = CheckProduct(permissions, request->product_key()); !s.ok()) return s;
    *response = registry_.FindProduct(request->product_key())->product();
    response->set_device_count(
        static_cast<uint32_t>(VisibleDevices(permissions, request->product_key()).size()));
    return absl::OkStatus();
  });
}

namespace {

void FillDevice(const DeviceEntry& entry, bool with_values, devicepb::Device& device) {
  device.set_device_key(entry.config.key);
  device.set_product_key(entry.config.product_key);
  device.set_name(entry.config.name);
  device.set_driver(entry.config.driver);
  device.set_online(entry.online.load());
  MutexLock lock(entry.mu);
  device.set_last_seen_ms(entry.last_seen_ms);
  if (with_values) *device.mutable_last_values() = entry.last_values;
}

}  // namespace

grpc::ServerUnaryReactor* DeviceServiceImpl::ListDevices(
    grpc::CallbackServerContext* context, const devicepb::ListDevicesRequest* request,
    devicepb::ListDevicesResponse* response) {
  return Unary(context, [this, request, response](const authpb::Permissions& permissions) {
    if (!request->product_key().empty()) {
      if (absl::Status s = CheckProduct(permissions, request->product_key()); !s.ok()) return s;
    }
    if (request->page_size() > 1000) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR, "page_size must be 0..1000");
    }
    const size_t page_size = request->page_size() == 0 ? 100 : request->page_size();
    size_t offset = 0;
    if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &offset)) {
      return ErrorStatus(ErrorCode::PARAMETER_ERROR, "page_token is not one this service gave");
    }
    // Pages count only the devices this client may see.
    const std::vector<const DeviceEntry*> devices =
        VisibleDevices(permissions, request->product_key());
    for (size_t i = offset; i < devices.size() && i < offset + page_size; ++i) {
      FillDevice(*devices[i], request->include_values(), *response->add_devices());
    }
    if (offset + page_size < devices.size()) {
      response->set_next_page_token(absl::StrCat(offset + page_size));
    }
    response->set_total_size(static_cast<uint32_t>(devices.size()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeviceServiceImpl::GetDevice(grpc::CallbackServerContext* context,
                                                       const devicepb::GetDeviceRequest* request,
                                                       devicepb::Device* response) {
  return Unary(context, [this, request, response](const authpb::Permissions& permissions) {
    if (absl::Status s = CheckProduct(permissions, request->product_key()); !s.ok()) return s;
    if (!Covers(permissions, request->product_key(), request->device_key())) {
      authorizer_.CountDenied();
      return ErrorStatus(
          ErrorCode::PERMISSION_DENIED,
          absl::StrCat("this client may not see device ", Quoted(request->device_key())));
    }
    const DeviceEntry* entry = registry_.FindDevice(request->product_key(), request->device_key());
    if (entry == nullptr) {
      return ErrorStatus(
          ErrorCode::DEVICE_NOT_FOUND,
          absl::StrCat("device ", Quoted(request->device_key()), " does not exist in product ",
                       Quoted(request->product_key())));
    }
    FillDevice(*entry, true, *response);
    return absl::OkStatus();
  });
}

}  // namespace nb::device
