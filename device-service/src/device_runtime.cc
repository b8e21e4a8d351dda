#include "device-service/src/device_runtime.h"

#include "absl/strings/str_cat.h"
#include "device-service/src/drivers/sim_driver.h"

namespace nb::device {

absl::StatusOr<std::unique_ptr<DeviceRuntime>> DeviceRuntime::Create(
    const DeviceRuntimeOptions& options, prometheus::Registry& metrics_registry) {
  absl::StatusOr<Fleet> fleet = LoadFleetFile(options.fleet_path);
  if (!fleet.ok()) return fleet.status();

  auto runtime = std::unique_ptr<DeviceRuntime>(new DeviceRuntime());
  runtime->thread_count_ = options.driver_threads;
  std::vector<std::string> product_keys;
  for (const auto& product : fleet->products) product_keys.push_back(product->product_key());
  runtime->metrics_ = std::make_unique<DeviceMetrics>(metrics_registry, product_keys);
  DeviceMetrics& metrics = *runtime->metrics_;
  runtime->bus_.on_dropped = [&metrics](int count) { metrics.CountDropped(count); };
  runtime->registry_ = std::make_unique<DeviceRegistry>(*fleet, runtime->bus_, metrics);

  auto sim = std::make_unique<SimDriver>(runtime->io_);
  for (size_t i = 0; i < fleet->devices.size(); ++i) {
    const DeviceConfig& config = fleet->devices[i];
    DeviceEntry& entry = runtime->registry_->device(static_cast<DeviceIndex>(i));
    if (config.driver != "sim") {
      return absl::InvalidArgumentError(
          absl::StrCat(config.location, ": device '", config.key, "': unknown driver '",
                       config.driver, "' (available: sim)"));
    }
    if (absl::Status s = sim->AddDevice(entry.index, config, entry.model); !s.ok()) return s;
    runtime->registry_->SetDriver(entry.index, sim.get());
  }
  runtime->drivers_.push_back(std::move(sim));

  runtime->dispatcher_ = std::make_unique<CommandDispatcher>(*runtime->registry_, runtime->io_,
                                                             metrics, options.dispatcher);
  runtime->service_ = std::make_unique<DeviceServiceImpl>(
      *runtime->registry_, *runtime->dispatcher_, runtime->bus_, metrics, options.service);
  return runtime;
}

DeviceRuntime::~DeviceRuntime() { Stop(); }

absl::Status DeviceRuntime::Start() {
  work_ = std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
      io_.get_executor());
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { io_.run(); });
  for (auto& driver : drivers_) {
    if (absl::Status s = driver->Start(registry_.get()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void DeviceRuntime::Stop() {
  if (threads_.empty()) return;
  for (auto& driver : drivers_) driver->Stop();
  work_.reset();
  // Let the drivers' last callbacks (NO_REPLY for commands in flight) run, then stop.
  io_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace nb::device
