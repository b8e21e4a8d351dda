#ifndef NORTHBOUND_COMMON_TIME_H_
#define NORTHBOUND_COMMON_TIME_H_

#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace nb {

// Wall-clock milliseconds since 1970: the timestamps of protocol frames, events and
// stored records.
inline int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace nb

#endif  // NORTHBOUND_COMMON_TIME_H_
