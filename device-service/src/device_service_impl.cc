#include "device-service/src/device_service_impl.h"

#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/status.h"
#include "device-service/src/send_reactor.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;

}  // namespace

// Shared state of one Subscribe stream; the same locking scheme as SendStream
// (send_reactor.cc).
class SubscribeStream : public std::enable_shared_from_this<SubscribeStream> {
 public:
  explicit SubscribeStream(grpc::ServerWriteReactor<devicepb::DeviceEvent>* reactor)
      : reactor_(reactor) {}

  void Attach(std::shared_ptr<Subscription> subscription) {
    MutexLock lock(mu_);
    subscription_ = std::move(subscription);
  }
  const std::shared_ptr<Subscription>& subscription() const { return subscription_; }

  // Wakes the writer: an event is queued, a write finished, or the stream must end.
  void Pump() {
    MutexLock lock(mu_);
    WriteStep step = WriteStep::kNothing;
    if (writing_ || finished_) {
      step = WriteStep::kNothing;
    } else if (end_ != grpc::StatusCode::OK) {
      finished_ = true;
      step = WriteStep::kFinish;
    } else if (subscription_ && subscription_->Take(current_)) {
      writing_ = true;
      step = WriteStep::kWrite;
    }
    const grpc::Status status(
        end_, end_ == grpc::StatusCode::CANCELLED ? "cancelled" : "device-service is stopping");
    lock.Unlock();
    if (step == WriteStep::kWrite) reactor_->StartWrite(&current_);
    if (step == WriteStep::kFinish) reactor_->Finish(status);
  }

  void OnWriteDone(bool ok) {
    {
      MutexLock lock(mu_);
      writing_ = false;
      if (!ok) end_ = grpc::StatusCode::CANCELLED;
    }
    Pump();
  }

  // For a stream refused before it started: Finish is called by the caller.
  void MarkFinished() {
    MutexLock lock(mu_);
    finished_ = true;
  }

  void End(grpc::StatusCode code) {
    {
      MutexLock lock(mu_);
      if (end_ == grpc::StatusCode::OK) end_ = code;
    }
    Pump();
  }

 private:
  grpc::ServerWriteReactor<devicepb::DeviceEvent>* const reactor_;
  Mutex mu_;
  std::shared_ptr<Subscription> subscription_;
  devicepb::DeviceEvent current_;
  // The initial metadata, sent once the subscription is live, is the first write.
  bool writing_ ABSL_GUARDED_BY(mu_) = true;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::StatusCode end_ ABSL_GUARDED_BY(mu_) = grpc::StatusCode::OK;
};

namespace {

class SubscribeReactor final : public grpc::ServerWriteReactor<devicepb::DeviceEvent> {
 public:
  SubscribeReactor(DeviceServiceImpl& service, EventBus& bus, DeviceMetrics& metrics)
      : service_(service),
        bus_(bus),
        metrics_(metrics),
        stream_(std::make_shared<SubscribeStream>(this)) {}

  const std::shared_ptr<SubscribeStream>& stream() const { return stream_; }

  void Reject(const grpc::Status& status) {
    stream_->MarkFinished();
    Finish(status);
  }

  void OnSendInitialMetadataDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->End(grpc::StatusCode::CANCELLED); }
  void OnDone() override {
    if (stream_->subscription()) {
      bus_.Remove(stream_->subscription().get());
      metrics_.SetSubscriptions(static_cast<double>(bus_.size()));
    }
    Unregister();
    delete this;
  }

 private:
  void Unregister();

  DeviceServiceImpl& service_;
  EventBus& bus_;
  DeviceMetrics& metrics_;
  std::shared_ptr<SubscribeStream> stream_;
};

}  // namespace

DeviceServiceImpl::DeviceServiceImpl(DeviceRegistry& registry, CommandDispatcher& dispatcher,
                                     EventBus& bus, DeviceMetrics& metrics, ServiceOptions options)
    : registry_(registry),
      dispatcher_(dispatcher),
      bus_(bus),
      metrics_(metrics),
      options_(options) {}

DeviceServiceImpl::~DeviceServiceImpl() = default;

void DeviceServiceImpl::Register(const std::shared_ptr<SubscribeStream>& stream) {
  MutexLock lock(mu_);
  streams_.push_back(stream);
}

void DeviceServiceImpl::Unregister(const SubscribeStream* stream) {
  MutexLock lock(mu_);
  std::erase_if(streams_, [&](const auto& s) { return s.get() == stream; });
}

void DeviceServiceImpl::EndSubscriptions() {
  std::vector<std::shared_ptr<SubscribeStream>> streams;
  {
    MutexLock lock(mu_);
    streams = streams_;
  }
  for (const auto& stream : streams) stream->End(grpc::StatusCode::UNAVAILABLE);
}

void SubscribeReactor::Unregister() { service_.Unregister(stream_.get()); }

grpc::ServerWriteReactor<devicepb::SendReply>* DeviceServiceImpl::Send(
    grpc::CallbackServerContext* context, const devicepb::SendRequest* request) {
  return StartSend(context, *request, dispatcher_);
}

grpc::ServerWriteReactor<devicepb::DeviceEvent>* DeviceServiceImpl::Subscribe(
    grpc::CallbackServerContext* context, const devicepb::SubscribeRequest* request) {
  auto* reactor = new SubscribeReactor(*this, bus_, metrics_);
  absl::StatusOr<TopicPattern> pattern = TopicPattern::Parse(request->topic());
  if (!pattern.ok()) {
    reactor->Reject(ToGrpcStatus(pattern.status(), *context));
    return reactor;
  }
  // The bus wakes the stream from publishing threads; the weak pointer keeps a late wake
  // from touching a stream that is gone.
  std::weak_ptr<SubscribeStream> weak = reactor->stream();
  auto subscription =
      std::make_shared<Subscription>(*std::move(pattern), options_.subscriber_queue, [weak] {
        if (auto stream = weak.lock()) stream->Pump();
      });
  reactor->stream()->Attach(subscription);
  Register(reactor->stream());
  bus_.Add(std::move(subscription));
  metrics_.SetSubscriptions(static_cast<double>(bus_.size()));
  // Tells the caller the subscription is live: events published from now on reach it.
  reactor->StartSendInitialMetadata();
  return reactor;
}

grpc::ServerUnaryReactor* DeviceServiceImpl::ListProducts(
    grpc::CallbackServerContext* context, const devicepb::ListProductsRequest*,
    devicepb::ListProductsResponse* response) {
  for (const auto& model : registry_.products()) {
    devicepb::Product& product = *response->add_products();
    product = model->product();
    product.set_device_count(
        static_cast<uint32_t>(registry_.DevicesOf(model->product_key()).size()));
  }
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* DeviceServiceImpl::GetProduct(grpc::CallbackServerContext* context,
                                                        const devicepb::GetProductRequest* request,
                                                        devicepb::Product* response) {
  auto* reactor = context->DefaultReactor();
  const ThingModel* model = registry_.FindProduct(request->product_key());
  if (model == nullptr) {
    reactor->Finish(ToGrpcStatus(
        ErrorStatus(ErrorCode::PRODUCT_NOT_FOUND,
                    absl::StrCat("product '", request->product_key(), "' does not exist")),
        *context));
    return reactor;
  }
  *response = model->product();
  response->set_device_count(
      static_cast<uint32_t>(registry_.DevicesOf(model->product_key()).size()));
  reactor->Finish(grpc::Status::OK);
  return reactor;
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
  auto* reactor = context->DefaultReactor();
  auto fail = [&](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status, *context));
    return reactor;
  };
  if (!request->product_key().empty() && registry_.FindProduct(request->product_key()) == nullptr) {
    return fail(ErrorStatus(ErrorCode::PRODUCT_NOT_FOUND,
                            absl::StrCat("product '", request->product_key(), "' does not exist")));
  }
  if (request->page_size() > 1000) {
    return fail(ErrorStatus(ErrorCode::PARAMETER_ERROR, "page_size must be 0..1000"));
  }
  const size_t page_size = request->page_size() == 0 ? 100 : request->page_size();
  size_t offset = 0;
  if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &offset)) {
    return fail(ErrorStatus(ErrorCode::PARAMETER_ERROR, "page_token is not one this service gave"));
  }
  const std::vector<DeviceEntry*>& devices = registry_.DevicesOf(request->product_key());
  for (size_t i = offset; i < devices.size() && i < offset + page_size; ++i) {
    FillDevice(*devices[i], false, *response->add_devices());
  }
  if (offset + page_size < devices.size()) {
    response->set_next_page_token(absl::StrCat(offset + page_size));
  }
  response->set_total_size(static_cast<uint32_t>(devices.size()));
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* DeviceServiceImpl::GetDevice(grpc::CallbackServerContext* context,
                                                       const devicepb::GetDeviceRequest* request,
                                                       devicepb::Device* response) {
  auto* reactor = context->DefaultReactor();
  if (registry_.FindProduct(request->product_key()) == nullptr) {
    reactor->Finish(ToGrpcStatus(
        ErrorStatus(ErrorCode::PRODUCT_NOT_FOUND,
                    absl::StrCat("product '", request->product_key(), "' does not exist")),
        *context));
    return reactor;
  }
  const DeviceEntry* entry = registry_.FindDevice(request->product_key(), request->device_key());
  if (entry == nullptr) {
    reactor->Finish(ToGrpcStatus(
        ErrorStatus(ErrorCode::DEVICE_NOT_FOUND,
                    absl::StrCat("device '", request->device_key(), "' does not exist in product '",
                                 request->product_key(), "'")),
        *context));
    return reactor;
  }
  FillDevice(*entry, true, *response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace nb::device
