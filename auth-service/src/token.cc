#include "auth-service/src/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace nb::auth {
namespace {

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    // Without randomness no token may be issued; this is not recoverable.
    throw std::runtime_error("the CSPRNG failed");
  }
  return bytes;
}

}  // namespace

std::string GenerateToken() {
  return absl::StrCat(kTokenPrefix, absl::WebSafeBase64Escape(RandomBytes(32)));
}

bool IsWellFormedToken(absl::string_view token) {
  if (token.size() != kTokenLength || !absl::StartsWith(token, kTokenPrefix)) return false;
  for (char c : token.substr(kTokenPrefix.size())) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string HashToken(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

std::string GenerateClientId() {
  return absl::StrCat("c_", absl::BytesToHexString(RandomBytes(8)));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace nb::auth
