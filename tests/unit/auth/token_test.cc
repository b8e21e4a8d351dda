#include "auth-service/src/token.h"

#include <set>

#include "gtest/gtest.h"

namespace nb::auth {
namespace {

TEST(TokenTest, GeneratedTokensAreWellFormedUrlSafeAndDistinct) {
  std::set<std::string> tokens;
  for (int i = 0; i < 1000; ++i) {
    const std::string token = GenerateToken();
    ASSERT_TRUE(IsWellFormedToken(token)) << token;
    EXPECT_EQ(token.find_first_of("+/=%?#"), std::string::npos) << token;
    tokens.insert(token);
  }
  EXPECT_EQ(tokens.size(), 1000u);
}

TEST(TokenTest, MalformedTokensAreRecognised) {
  EXPECT_FALSE(IsWellFormedToken(""));
  EXPECT_FALSE(IsWellFormedToken("nbt_short"));
  std::string token = GenerateToken();
  token[10] = '!';
  EXPECT_FALSE(IsWellFormedToken(token));
  EXPECT_FALSE(IsWellFormedToken("xxx_" + GenerateToken().substr(4)));
  EXPECT_FALSE(IsWellFormedToken(GenerateToken() + "a"));
}

TEST(TokenTest, HashIsSha256Hex) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(HashToken("a"), HashToken("b"));
}

TEST(TokenTest, ClientIdsAreDistinct) {
  EXPECT_NE(GenerateClientId(), GenerateClientId());
  EXPECT_EQ(GenerateClientId().size(), 18u);
}

TEST(TokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret-value", "secret-value"));
  EXPECT_FALSE(ConstantTimeEquals("secret-value", "secret-valuf"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret-value"));
}

}  // namespace
}  // namespace nb::auth
