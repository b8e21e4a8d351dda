#include "device-service/src/device_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"

namespace nb::device {

DeviceRegistry::DeviceRegistry(const Fleet& fleet, EventBus& bus, DeviceMetrics& metrics)
    : products_(fleet.products), bus_(bus), metrics_(metrics) {
  for (const auto& product : products_) {
    products_by_key_[product->product_key()] = product.get();
    devices_by_product_[product->product_key()];
    online_by_product_[product->product_key()] = 0;
  }
  for (const DeviceConfig& config : fleet.devices) {
    auto entry = std::make_unique<DeviceEntry>();
    entry->index = static_cast<DeviceIndex>(devices_.size());
    entry->config = config;
    entry->model = *std::find_if(products_.begin(), products_.end(), [&](const auto& p) {
      return p->product_key() == config.product_key;
    });
    devices_by_key_[absl::StrCat(config.product_key, "/", config.key)] = entry.get();
    devices_by_product_[config.product_key].push_back(entry.get());
    devices_by_product_[""].push_back(entry.get());
    devices_.push_back(std::move(entry));
  }
  for (const auto& product : products_) {
    metrics_.SetDevices(product->product_key(),
                        static_cast<double>(devices_by_product_[product->product_key()].size()));
  }
}

const ThingModel* DeviceRegistry::FindProduct(absl::string_view product_key) const {
  auto it = products_by_key_.find(product_key);
  return it == products_by_key_.end() ? nullptr : it->second;
}

DeviceEntry* DeviceRegistry::FindDevice(absl::string_view product_key,
                                        absl::string_view device_key) const {
  auto it = devices_by_key_.find(absl::StrCat(product_key, "/", device_key));
  return it == devices_by_key_.end() ? nullptr : it->second;
}

const std::vector<DeviceEntry*>& DeviceRegistry::DevicesOf(absl::string_view product_key) const {
  static const std::vector<DeviceEntry*> kNone;
  auto it = devices_by_product_.find(product_key);
  return it == devices_by_product_.end() ? kNone : it->second;
}

void DeviceRegistry::RecordValues(DeviceIndex index, const google::protobuf::Struct& values) {
  DeviceEntry& entry = *devices_[index];
  MutexLock lock(entry.mu);
  for (const auto& [id, value] : values.fields()) (*entry.last_values.mutable_fields())[id] = value;
  entry.last_seen_ms = NowMs();
}

void DeviceRegistry::Touch(DeviceIndex index) {
  DeviceEntry& entry = *devices_[index];
  MutexLock lock(entry.mu);
  entry.last_seen_ms = NowMs();
}

void DeviceRegistry::Publish(DeviceIndex index, devicepb::EventKind kind, absl::string_view suffix,
                             google::protobuf::Struct payload, std::string message_id,
                             absl::Status status) {
  const DeviceEntry& entry = *devices_[index];
  devicepb::DeviceEvent event;
  event.set_topic(DeviceTopic(entry.config.product_key, entry.config.key, suffix));
  event.set_product_key(entry.config.product_key);
  event.set_device_key(entry.config.key);
  event.set_kind(kind);
  event.set_message_id(std::move(message_id));
  event.set_timestamp_ms(NowMs());
  *event.mutable_payload() = std::move(payload);
  if (!status.ok()) {
    event.set_code(ErrorCodeOf(status));
    event.set_message(std::string(status.message()));
  }
  metrics_.CountEvent(kind);
  bus_.Publish(std::move(event));
}

void DeviceRegistry::OnConnectionChanged(DeviceIndex device, bool online) {
  DeviceEntry& entry = *devices_[device];
  if (entry.online.exchange(online) == online) return;
  std::atomic<int>& count = online_by_product_.find(entry.config.product_key)->second;
  const int now_online = online ? ++count : --count;
  metrics_.SetOnline(entry.config.product_key, now_online);
  Touch(device);
  Publish(device, online ? devicepb::ONLINE : devicepb::OFFLINE, online ? "online" : "offline", {});
}

void DeviceRegistry::OnPropertyReport(DeviceIndex device, google::protobuf::Struct values) {
  RecordValues(device, values);
  Publish(device, devicepb::PROPERTY_REPORT, "message/property/report", std::move(values));
}

void DeviceRegistry::OnEvent(DeviceIndex device, const std::string& event_id,
                             google::protobuf::Struct data) {
  Touch(device);
  Publish(device, devicepb::EVENT, absl::StrCat("message/event/", event_id), std::move(data));
}

}  // namespace nb::device
