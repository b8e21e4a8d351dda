#include "common/ports_file.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"

namespace nb {

absl::Status WritePortsFile(const std::string& path,
                            const std::vector<std::pair<std::string, int>>& ports) {
  if (path.empty()) return absl::OkStatus();
  boost::json::object object;
  for (const auto& [name, port] : ports) object[name] = port;
  const std::string temporary = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << boost::json::serialize(object) << "\n";
    if (!out.good()) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", temporary, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace nb
