#ifndef NORTHBOUND_COMMON_PROCESS_METRICS_H_
#define NORTHBOUND_COMMON_PROCESS_METRICS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace nb {

// The standard process metrics every Prometheus client library exports, read from /proc
// at each scrape: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds. prometheus-cpp has no collector of its own.
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// The parts of /proc/<pid>/stat the collector uses. Parsed from the text; nullopt if it
// is not in the kernel's format.
struct ProcStat {
  double utime_ticks = 0;
  double stime_ticks = 0;
  double start_ticks = 0;
  double vsize_bytes = 0;
  double rss_pages = 0;
};
std::optional<ProcStat> ParseProcStat(absl::string_view text);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_PROCESS_METRICS_H_
