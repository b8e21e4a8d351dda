#ifndef NORTHBOUND_DEVICE_SERVICE_DEVICE_METRICS_H_
#define NORTHBOUND_DEVICE_SERVICE_DEVICE_METRICS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "northbound/device/v1/device_service.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nb::device {

// The metrics of device-service. Every family and label child is created in the
// constructor (product keys come from the fleet, never from requests), so the hot paths
// only touch existing children. No device key is ever a label. Thread-safe.
class DeviceMetrics {
 public:
  DeviceMetrics(prometheus::Registry& registry, const std::vector<std::string>& product_keys);

  void SetDevices(const std::string& product_key, double devices);
  void SetOnline(const std::string& product_key, double online_devices);
  void CountCommand(northbound::device::v1::MessageType type, ErrorCode code, double seconds);
  void SetSubscriptions(double count);
  void CountEvent(northbound::device::v1::EventKind kind);
  void CountDropped(int count);

 private:
  absl::flat_hash_map<std::string, prometheus::Gauge*> online_;
  absl::flat_hash_map<std::string, prometheus::Gauge*> devices_;
  // [message type][error code]
  std::vector<std::vector<prometheus::Counter*>> commands_;
  std::vector<prometheus::Histogram*> latency_;
  prometheus::Gauge* subscriptions_;
  std::vector<prometheus::Counter*> events_;
  prometheus::Counter* dropped_;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DEVICE_METRICS_H_
