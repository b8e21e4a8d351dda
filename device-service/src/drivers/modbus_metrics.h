#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_METRICS_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_METRICS_H_

#include <array>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nb::device {

// The `modbus` driver's metric families (docs/device-service.md lists them), created once
// with every label child, so counting is a lookup. Thread-safe.
class ModbusMetrics {
 public:
  enum class Outcome { kOk, kException, kTimeout, kBadResponse, kBroken };

  explicit ModbusMetrics(prometheus::Registry& registry);

  void CountRequest(Outcome outcome, double seconds) {
    outcomes_[static_cast<size_t>(outcome)]->Increment();
    if (outcome != Outcome::kBroken) latency_.Observe(seconds);
  }
  prometheus::Gauge& connected() { return connected_; }
  prometheus::Counter& reconnects() { return reconnects_; }
  prometheus::Counter& busy() { return *busy_; }
  prometheus::Counter& offline() { return *offline_; }
  prometheus::Counter& polls() { return polls_; }
  prometheus::Counter& invalid() { return invalid_; }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& latency_;
  prometheus::Gauge& connected_;
  prometheus::Counter& reconnects_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Counter& polls_;
  prometheus::Counter& invalid_;
  std::array<prometheus::Counter*, 5> outcomes_{};
  prometheus::Counter* busy_ = nullptr;
  prometheus::Counter* offline_ = nullptr;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MODBUS_METRICS_H_
