#include "common/metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "common/process_metrics.h"

namespace nb {

Metrics::Metrics(std::unique_ptr<prometheus::Exposer> exposer,
                 std::shared_ptr<prometheus::Registry> registry,
                 std::shared_ptr<prometheus::Collectable> process, int port)
    : exposer_(std::move(exposer)),
      registry_(std::move(registry)),
      process_(std::move(process)),
      port_(port) {}

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(const std::string& host, int port) {
  const std::string address = absl::StrCat(host, ":", port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One thread is plenty for a scrape every few seconds.
    exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address));
  }
  auto registry = std::make_shared<prometheus::Registry>();
  exposer->RegisterCollectable(registry);
  // The exposer holds collectables weakly: this object keeps the process collector.
  auto process = std::make_shared<ProcessCollector>();
  exposer->RegisterCollectable(process);
  return std::unique_ptr<Metrics>(
      new Metrics(std::move(exposer), std::move(registry), std::move(process), ports[0]));
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
  return kBuckets;
}

std::string MetricName(absl::string_view subsystem, absl::string_view what, absl::string_view unit,
                       bool counter) {
  std::string name = absl::StrCat("northbound_", subsystem, "_", what);
  if (!unit.empty()) absl::StrAppend(&name, "_", unit);
  if (counter) absl::StrAppend(&name, "_total");
  return name;
}

}  // namespace nb
