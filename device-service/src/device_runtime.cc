#include "device-service/src/device_runtime.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"
#include "grpcpp/create_channel.h"

namespace nb::device {

absl::StatusOr<std::unique_ptr<DeviceRuntime>> DeviceRuntime::Create(
    const DeviceRuntimeOptions& options, prometheus::Registry& metrics_registry) {
  const DriverRegistry& drivers =
      options.drivers != nullptr ? *options.drivers : DriverRegistry::Builtin();
  absl::StatusOr<Fleet> fleet = LoadFleetFile(options.fleet_path, drivers);
  if (!fleet.ok()) return fleet.status();

  auto runtime = std::unique_ptr<DeviceRuntime>(new DeviceRuntime());
  runtime->thread_count_ = options.driver_threads;
  std::vector<std::string> product_keys;
  for (const auto& product : fleet->products) product_keys.push_back(product->product_key());
  runtime->metrics_ = std::make_unique<DeviceMetrics>(metrics_registry, product_keys);
  DeviceMetrics& metrics = *runtime->metrics_;
  runtime->bus_.on_dropped = [&metrics](int count) { metrics.CountDropped(count); };
  runtime->registry_ = std::make_unique<DeviceRegistry>(*fleet, runtime->bus_, metrics);

  // One driver per kind the fleet uses, in the order the fleet first names them.
  const DriverContext context{runtime->io_, metrics_registry};
  absl::flat_hash_map<std::string, Driver*> by_name;
  for (size_t i = 0; i < fleet->devices.size(); ++i) {
    const DeviceConfig& config = fleet->devices[i];
    DeviceEntry& entry = runtime->registry_->device(static_cast<DeviceIndex>(i));
    Driver*& driver = by_name[config.driver];
    if (driver == nullptr) {
      absl::StatusOr<std::unique_ptr<Driver>> created =
          drivers.Find(config.driver)->Create(context, fleet->driver_sections[config.driver].get());
      if (!created.ok()) return created.status();
      driver = created->get();
      runtime->drivers_.push_back(*std::move(created));
    }
    if (absl::Status s = driver->AddDevice(entry.index, config, entry.model); !s.ok()) return s;
    runtime->registry_->SetDriver(entry.index, driver);
  }

  const DeviceAuthOptions& auth = options.auth;
  if (!auth.service.empty() && !auth.allow_unauthenticated) {
    runtime->auth_ = std::make_unique<AuthClient>(
        BackendChannel(auth.service, auth.credentials != nullptr
                                         ? auth.credentials
                                         : grpc::InsecureChannelCredentials()),
        runtime->io_, auth.cache_ttl, auth.timeout);
    runtime->auth_->SetOutageGrace(auth.outage_grace);
  }
  runtime->authorizer_ = std::make_unique<Authorizer>(runtime->auth_.get(),
                                                      auth.allow_unauthenticated, metrics_registry);
  runtime->dispatcher_ = std::make_unique<CommandDispatcher>(*runtime->registry_, runtime->io_,
                                                             metrics, options.dispatcher);
  runtime->service_ =
      std::make_unique<DeviceServiceImpl>(*runtime->registry_, *runtime->dispatcher_, runtime->bus_,
                                          metrics, *runtime->authorizer_, options.service);
  return runtime;
}

DeviceRuntime::~DeviceRuntime() { Stop(); }

absl::Status DeviceRuntime::Start() {
  work_ =
      std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io_.get_executor());
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { io_.run(); });
  for (auto& driver : drivers_) {
    if (absl::Status s = driver->Start(registry_.get()); !s.ok()) return s;
  }
  if (auth_ != nullptr) {
    auth_->StartWatch(
        [this](const std::string& client_id) { authorizer_->OnClientChanged(client_id); },
        [this] { authorizer_->OnResync(); });
  }
  return absl::OkStatus();
}

void DeviceRuntime::Stop() {
  if (threads_.empty()) return;
  // The watch's reconnect timer runs on the loop: the client stops while it still runs.
  if (auth_ != nullptr) auth_->Stop();
  // Each Stop returns once its driver has answered what was in flight and will call out no
  // more; the driver threads must still run for that.
  for (auto& driver : drivers_) driver->Stop();
  // What is left on the loop (the dispatcher's timeout timers) has nobody to answer.
  work_.reset();
  io_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

Driver* DeviceRuntime::FindDriver(absl::string_view name) const {
  for (const auto& driver : drivers_) {
    if (driver->name() == name) return driver.get();
  }
  return nullptr;
}

}  // namespace nb::device
