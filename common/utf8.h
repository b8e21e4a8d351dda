#ifndef NORTHBOUND_COMMON_UTF8_H_
#define NORTHBOUND_COMMON_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace nb {

// The longest start of `text` of at most `max_bytes` that ends on a UTF-8 character
// boundary.
absl::string_view Utf8Prefix(absl::string_view text, size_t max_bytes);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_UTF8_H_
