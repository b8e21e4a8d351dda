#ifndef NORTHBOUND_COMMON_METRICS_H_
#define NORTHBOUND_COMMON_METRICS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nb {

// The one metrics registry of a process and the HTTP exposer that serves it on its own
// port at /metrics, with the standard process_* metrics (common/process_metrics.h). Families are
// built at start-up by the components that own them and their label children added once, never on a
// hot path (docs/architecture.md); the registry is thread-safe.
class Metrics {
 public:
  // Binds `host:port` (port 0 picks a free one). Fails with a clear message if the port
  // is taken.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(const std::string& host, int port);

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  int port() const { return port_; }

 private:
  Metrics(std::unique_ptr<prometheus::Exposer> exposer,
          std::shared_ptr<prometheus::Registry> registry,
          std::shared_ptr<prometheus::Collectable> process, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  int port_;
};

// Latency buckets shared by every histogram, in seconds: 100 us .. 30 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// Builds a metric name: "northbound_<subsystem>_<what>[_<unit>][_total]".
std::string MetricName(absl::string_view subsystem, absl::string_view what,
                       absl::string_view unit = {}, bool counter = false);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_METRICS_H_
