#include "nbctl/arguments.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nb::nbctl {

std::optional<std::string> Arguments::Get(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<Arguments> ParseArguments(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& flags) {
  Arguments arguments;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (!absl::StartsWith(word, "--")) {
      arguments.words.push_back(word);
      continue;
    }
    std::string name = word.substr(2);
    const size_t equals = name.find('=');
    if (equals != std::string::npos) {
      arguments.options[name.substr(0, equals)] = name.substr(equals + 1);
    } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      arguments.options[name] = "true";
    } else if (i + 1 < argv.size()) {
      arguments.options[name] = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
  }
  return arguments;
}

absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text) {
  if (text.size() < 2) return absl::InvalidArgumentError("durations look like 90s, 30m, 12h or 7d");
  int64_t count;
  if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &count) || count <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad duration '", text, "'"));
  }
  switch (text.back()) {
    case 's':
      return count;
    case 'm':
      return count * 60;
    case 'h':
      return count * 3600;
    case 'd':
      return count * 86400;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("bad duration unit in '", text, "' (s, m, h, d)"));
  }
}

}  // namespace nb::nbctl
