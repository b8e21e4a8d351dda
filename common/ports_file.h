#ifndef NORTHBOUND_COMMON_PORTS_FILE_H_
#define NORTHBOUND_COMMON_PORTS_FILE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace nb {

// Writes {"name":port,...} to `path` atomically (a temporary file renamed into place), so
// a reader polling for the file never sees it half-written. An empty path does nothing.
absl::Status WritePortsFile(const std::string& path,
                            const std::vector<std::pair<std::string, int>>& ports);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_PORTS_FILE_H_
