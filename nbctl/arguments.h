#ifndef NORTHBOUND_NBCTL_ARGUMENTS_H_
#define NORTHBOUND_NBCTL_ARGUMENTS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace nb::nbctl {

// A command line split into positional words and --options. "--name value" and
// "--name=value" both work; an option listed in `flags` takes no value.
struct Arguments {
  std::vector<std::string> words;
  std::map<std::string, std::string> options;

  std::optional<std::string> Get(const std::string& name) const;
  bool Has(const std::string& name) const { return options.contains(name); }
};

absl::StatusOr<Arguments> ParseArguments(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& flags);

// "1h", "30m", "7d", "90s" -> seconds.
absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text);

}  // namespace nb::nbctl

#endif  // NORTHBOUND_NBCTL_ARGUMENTS_H_
