#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_METRICS_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_METRICS_H_

#include <array>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nb::device {

// The `mqtt` driver's metric families (docs/device-service.md lists them), created once
// with every label child the hot path uses, so counting is a lookup in an array.
// Thread-safe.
class MqttMetrics {
 public:
  enum class Direction { kIn, kOut };
  enum class Kind { kRequest, kReply, kReport, kEvent, kStatus, kAck, kOwn };
  // Why a device message was dropped.
  enum class Invalid { kJson, kTooLarge, kUnknownDevice, kModel, kTopic };

  explicit MqttMetrics(prometheus::Registry& registry);

  void CountMessage(Direction direction, Kind kind) {
    messages_[static_cast<size_t>(direction)][static_cast<size_t>(kind)]->Increment();
  }
  void CountInvalid(Invalid reason) { invalid_[static_cast<size_t>(reason)]->Increment(); }
  void CountUnmatched() { unmatched_.Increment(); }
  void ObserveLatency(double seconds) { latency_.Observe(seconds); }
  prometheus::Gauge& in_flight() { return in_flight_; }
  // Per broker; called once for each at start-up.
  prometheus::Gauge& connected(const std::string& broker);
  prometheus::Counter& reconnects(const std::string& broker);

 private:
  static constexpr size_t kKinds = 7;
  static constexpr size_t kReasons = 5;

  prometheus::Family<prometheus::Counter>& messages_family_;
  prometheus::Family<prometheus::Counter>& invalid_family_;
  prometheus::Counter& unmatched_;
  prometheus::Histogram& latency_;
  prometheus::Family<prometheus::Gauge>& connected_;
  prometheus::Gauge& in_flight_;
  prometheus::Family<prometheus::Counter>& reconnects_;
  std::array<std::array<prometheus::Counter*, kKinds>, 2> messages_{};
  std::array<prometheus::Counter*, kReasons> invalid_{};
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_METRICS_H_
