#ifndef NORTHBOUND_TESTS_BENCH_BENCH_STATS_H_
#define NORTHBOUND_TESTS_BENCH_BENCH_STATS_H_

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace nb::bench {

// Percentiles of a sample, in the sample's unit.
struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

inline Percentiles Summarize(std::vector<double> samples) {
  Percentiles result;
  if (samples.empty()) return result;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()))];
  };
  result.p50 = at(0.50);
  result.p90 = at(0.90);
  result.p99 = at(0.99);
  result.max = samples.back();
  return result;
}

inline double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Parses "--name=value" arguments into integers with defaults.
inline long Flag(int argc, char** argv, const std::string& name, long fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) return std::stol(arg.substr(prefix.size()));
  }
  return fallback;
}

// Parses "--name=value" arguments into strings with defaults.
inline std::string StringFlag(int argc, char** argv, const std::string& name,
                              const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
  }
  return fallback;
}

}  // namespace nb::bench

#endif  // NORTHBOUND_TESTS_BENCH_BENCH_STATS_H_
