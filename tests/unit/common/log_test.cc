#include "common/log.h"

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace nb::log {
namespace {

boost::json::object Parse(const std::string& line) { return boost::json::parse(line).as_object(); }

TEST(LogTest, LineIsJsonWithLevelMessageAndFields) {
  const boost::json::object line = Parse(Format(Level::kWarn, "hello", {{"count", 3}}));
  EXPECT_EQ(line.at("level").as_string(), "warn");
  EXPECT_EQ(line.at("msg").as_string(), "hello");
  EXPECT_EQ(line.at("count").as_int64(), 3);
  EXPECT_TRUE(line.contains("ts"));
}

TEST(LogTest, SecretFieldsAreRedacted) {
  const std::string line =
      Format(Level::kInfo, "auth", {{"token", "s3cr3t-value"}, {"Authorization", "Bearer abc"}});
  EXPECT_EQ(line.find("s3cr3t-value"), std::string::npos) << line;
  EXPECT_EQ(line.find("Bearer abc"), std::string::npos) << line;
  EXPECT_EQ(Parse(line).at("token").as_string(), "[redacted]");
}

TEST(LogTest, NestedSecretFieldsAreRedacted) {
  boost::json::object nested;
  nested["client_token"] = "s3cr3t-value";
  const std::string line = Format(Level::kInfo, "x", {{"request", nested}});
  EXPECT_EQ(line.find("s3cr3t-value"), std::string::npos) << line;
}

TEST(LogTest, TokenInMessagingPathIsRedacted) {
  const std::string line = Format(Level::kInfo, "GET /messaging/abcDEF123 failed",
                                  {{"target", "/messaging/abcDEF123?x=1"}});
  EXPECT_EQ(line.find("abcDEF123"), std::string::npos) << line;
  EXPECT_EQ(RedactText("/messaging/abc?x=1"), "/messaging/[redacted]?x=1");
}

TEST(LogTest, LevelsParseAndFilter) {
  EXPECT_EQ(*ParseLevel("DEBUG"), Level::kDebug);
  EXPECT_FALSE(ParseLevel("loud").ok());
  SetMinLevel(Level::kWarn);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  SetMinLevel(Level::kInfo);
}

TEST(LogTest, SecretHintIsShortStableAndNotTheSecret) {
  EXPECT_EQ(SecretHint("abc"), "ba7816bf");  // SHA-256("abc") starts with ba7816bf.
  EXPECT_EQ(SecretHint("abc"), SecretHint("abc"));
  EXPECT_NE(SecretHint("abc"), SecretHint("abd"));
}

}  // namespace
}  // namespace nb::log
