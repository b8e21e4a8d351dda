#ifndef NORTHBOUND_DEVICE_SERVICE_DEVICE_REGISTRY_H_
#define NORTHBOUND_DEVICE_SERVICE_DEVICE_REGISTRY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "common/mutex.h"
#include "common/time.h"
#include "device-service/src/device_metrics.h"
#include "device-service/src/driver.h"
#include "device-service/src/event_bus.h"
#include "device-service/src/fleet.h"

namespace nb::device {

// One device of the fleet and what is known about it. `config`, `model` and `driver` are
// fixed after start-up; the state below is thread-safe.
struct DeviceEntry {
  DeviceIndex index = 0;
  DeviceConfig config;
  std::shared_ptr<const ThingModel> model;
  Driver* driver = nullptr;

  std::atomic<bool> online{false};
  mutable Mutex mu;
  google::protobuf::Struct last_values ABSL_GUARDED_BY(mu);
  int64_t last_seen_ms ABSL_GUARDED_BY(mu) = 0;
};

// The products and devices of the fleet, their state, and the bridge from driver
// reports to the event bus. Lookups are lock-free after start-up; the listener methods
// run on driver threads.
class DeviceRegistry : public DeviceListener {
 public:
  DeviceRegistry(const Fleet& fleet, EventBus& bus, DeviceMetrics& metrics);

  const ThingModel* FindProduct(absl::string_view product_key) const;
  const std::vector<std::shared_ptr<const ThingModel>>& products() const { return products_; }
  DeviceEntry* FindDevice(absl::string_view product_key, absl::string_view device_key) const;
  DeviceEntry& device(DeviceIndex index) const { return *devices_[index]; }
  // Devices of a product (or of every product for ""), in fleet order.
  const std::vector<DeviceEntry*>& DevicesOf(absl::string_view product_key) const;
  size_t size() const { return devices_.size(); }

  // Binds each device to its driver; called once at start-up.
  void SetDriver(DeviceIndex index, Driver* driver) { devices_[index]->driver = driver; }

  // Merges values a device reported or answered with into its last known values.
  void RecordValues(DeviceIndex index, const google::protobuf::Struct& values);
  void Touch(DeviceIndex index);

  void Publish(DeviceIndex index, devicepb::EventKind kind, absl::string_view suffix,
               google::protobuf::Struct payload, std::string message_id = {},
               absl::Status status = absl::OkStatus());

  void OnConnectionChanged(DeviceIndex device, bool online) override;
  void OnPropertyReport(DeviceIndex device, google::protobuf::Struct values) override;
  void OnEvent(DeviceIndex device, const std::string& event_id,
               google::protobuf::Struct data) override;

 private:
  std::vector<std::shared_ptr<const ThingModel>> products_;
  absl::flat_hash_map<std::string, const ThingModel*> products_by_key_;
  std::vector<std::unique_ptr<DeviceEntry>> devices_;
  absl::flat_hash_map<std::string, DeviceEntry*> devices_by_key_;  // "product/device"
  absl::flat_hash_map<std::string, std::vector<DeviceEntry*>> devices_by_product_;
  absl::node_hash_map<std::string, std::atomic<int>> online_by_product_;
  EventBus& bus_;
  DeviceMetrics& metrics_;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DEVICE_REGISTRY_H_
