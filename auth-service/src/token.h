#ifndef NORTHBOUND_AUTH_SERVICE_TOKEN_H_
#define NORTHBOUND_AUTH_SERVICE_TOKEN_H_

#include <string>

#include "absl/strings/string_view.h"

namespace nb::auth {

// Tokens are "nbt_" followed by 43 base64url characters: 256 bits from the operating
// system's CSPRNG. Safe in a URL path as they are.
inline constexpr absl::string_view kTokenPrefix = "nbt_";
inline constexpr size_t kTokenLength = 4 + 43;

std::string GenerateToken();
// Checks the shape only (prefix, length, alphabet); says nothing about validity.
bool IsWellFormedToken(absl::string_view token);
// Lower-case hex SHA-256 of the token: the only form in which a token is stored.
std::string HashToken(absl::string_view token);
// A random client id: "c_" followed by 16 hex digits.
std::string GenerateClientId();
// Compares secrets in time independent of where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_TOKEN_H_
