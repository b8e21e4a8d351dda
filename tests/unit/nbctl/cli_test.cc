// nbctl's command line: what it accepts, what it refuses (exit 2, one clear line), and
// the frames it builds.
#include "nbctl/cli.h"

#include <stdlib.h>

#include <sstream>

#include "boost/json/serialize.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nbctl/client_commands.h"
#include "nbctl/ws_commands.h"

namespace nb::nbctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

Outcome Nbctl(std::vector<std::string> args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  const int status = RunNbctl(args, in, out, err);
  return {status, out.str(), err.str()};
}

class NbctlCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("NB_TOKEN");
    unsetenv("NB_ADMIN_TOKEN");
  }
};

TEST_F(NbctlCliTest, HelpForTheToolAndForEachSubcommand) {
  Outcome top = Nbctl({"--help"});
  EXPECT_EQ(top.status, 0);
  EXPECT_THAT(top.out, HasSubstr("client"));
  EXPECT_THAT(top.out, HasSubstr("ws"));

  Outcome create = Nbctl({"client", "create", "--help"});
  EXPECT_EQ(create.status, 0);
  EXPECT_THAT(create.out, HasSubstr("--products"));
  EXPECT_THAT(create.out, HasSubstr("--expires-in"));

  Outcome sub = Nbctl({"ws", "sub", "--help"});
  EXPECT_EQ(sub.status, 0);
  EXPECT_THAT(sub.out, HasSubstr("--read"));
  EXPECT_THAT(sub.out, HasSubstr("--count"));
}

TEST_F(NbctlCliTest, RefusesWhatItDoesNotKnow) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"clients", "list"},
           {"client"},
           {"client", "list", "--bogus"},
           {"client", "list", "extra"},
           {"ws", "--token", "t", "sub", "/device/p/d/online", "--frobnicate", "1"},
       }) {
    Outcome outcome = Nbctl(args);
    EXPECT_EQ(outcome.status, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(outcome.err, HasSubstr("nbctl: ")) << ::testing::PrintToString(args);
    EXPECT_THAT(outcome.err, HasSubstr("--help")) << ::testing::PrintToString(args);
  }
}

TEST_F(NbctlCliTest, RefusesValuesOfTheWrongType) {
  const std::string topic = "/device-message-sender/p/d";
  struct Case {
    std::vector<std::string> args;
    std::string named;  // what the message must mention
  };
  for (const Case& c : std::vector<Case>{
           {{"ws", "--token", "t", "sub", topic, "--count", "abc"}, "--count"},
           {{"ws", "--token", "t", "sub", topic, "--count", "-3"}, "--count"},
           {{"ws", "--token", "t", "sub", topic, "--timeout", "5"}, "--timeout"},
           {{"ws", "--token", "t", "sub", topic, "--timeout", "soon"}, "--timeout"},
           {{"ws", "--token", "t", "sub", topic, "--read", "a", "--write", "b=1"}, "--write"},
           {{"ws", "--token", "t", "sub", topic, "--input", "x=1"}, "--invoke"},
           {{"ws", "--url", "http://localhost:8080", "--token", "t", "sub", topic}, "--url"},
           {{"client", "create", "--all-products"}, "--name"},
           {{"client", "create", "--name", "x"}, "--products"},
           {{"client", "create", "--name", "x", "--all-products", "--operations", "fly"},
            "--operations"},
           {{"client", "create", "--name", "x", "--all-products", "--expires-in", "3w"},
            "--expires-in"},
           {{"client", "create", "--name", "x", "--all-products", "--products", "p"}, "--products"},
           {{"client", "create", "--name", "x", "--devices", "d"}, "--devices"},
           {{"client", "get"}, "ID"},
           {{"client", "update", "c_1", "--enable", "--disable"}, "--disable"},
           {{"client", "update", "c_1", "--operations", "read"}, "--products"},
       }) {
    Outcome outcome = Nbctl(c.args);
    EXPECT_EQ(outcome.status, 2) << ::testing::PrintToString(c.args) << outcome.err;
    EXPECT_THAT(outcome.err, HasSubstr(c.named)) << ::testing::PrintToString(c.args);
    EXPECT_EQ(outcome.out, "") << ::testing::PrintToString(c.args);
  }
}

TEST_F(NbctlCliTest, AWsCommandNeedsAToken) {
  Outcome outcome = Nbctl({"ws", "sub", "/device/p/d/online"});
  EXPECT_EQ(outcome.status, 2);
  EXPECT_THAT(outcome.err, HasSubstr("NB_TOKEN"));
}

TEST_F(NbctlCliTest, ACorrectCommandThatCannotConnectExitsOne) {
  // Port 1 on loopback is closed: the command line was right, the command failed.
  Outcome outcome = Nbctl({"ws", "sub", "/device/p/d/online", "--url", "ws://127.0.0.1:1",
                           "--token", "t", "--count", "1"});
  EXPECT_EQ(outcome.status, 1);
  EXPECT_THAT(outcome.err, HasSubstr("cannot connect"));
}

TEST_F(NbctlCliTest, AClientCommandWithoutCredentialExitsOneAndSaysWhy) {
  Outcome outcome = Nbctl({"client", "list", "--auth", "127.0.0.1:1"});
  EXPECT_EQ(outcome.status, 1);
  EXPECT_THAT(outcome.err, HasSubstr("NB_ADMIN_TOKEN"));
}

TEST_F(NbctlCliTest, BuildsEachKindOfSubFrame) {
  SubOptions read;
  read.topic = "/device-message-sender/p/d1,d2";
  read.read = {"temperature", "humidity"};
  read.timeout_ms = 500;
  EXPECT_EQ(boost::json::serialize(*BuildSubFrame(read)),
            R"({"id":"nbctl-1","type":"sub","topic":"/device-message-sender/p/d1,d2",)"
            R"("parameter":{"messageType":"READ_PROPERTY","properties":["temperature","humidity"],)"
            R"("headers":{"timeout":500}}})");

  SubOptions write;
  write.topic = "/device-message-sender/p/d";
  write.write = {"temperature=20.5", "label=lab", "on=true", "name=\"42\""};
  write.async = true;
  EXPECT_EQ(boost::json::serialize(BuildSubFrame(write)->at("parameter")),
            R"({"messageType":"WRITE_PROPERTY","properties":{"temperature":2.05E1,"label":"lab",)"
            R"("on":true,"name":"42"},"headers":{"async":true}})");

  SubOptions invoke;
  invoke.topic = "/device-message-sender/p/d";
  invoke.invoke = "selfTest";
  invoke.inputs = {"level=3"};
  EXPECT_EQ(boost::json::serialize(BuildSubFrame(invoke)->at("parameter")),
            R"({"messageType":"INVOKE_FUNCTION","functionId":"selfTest","inputs":{"level":3}})");

  SubOptions bad = write;
  bad.write = {"=3"};
  EXPECT_FALSE(BuildSubFrame(bad).ok());
}

TEST_F(NbctlCliTest, Durations) {
  EXPECT_EQ(*ParseDurationSeconds("90s"), 90);
  EXPECT_EQ(*ParseDurationSeconds("30m"), 1800);
  EXPECT_EQ(*ParseDurationSeconds("12h"), 43200);
  EXPECT_EQ(*ParseDurationSeconds("7d"), 604800);
  for (const char* bad : {"", "d", "0d", "-1d", "3w", "1.5h", "99999999999999d"}) {
    EXPECT_FALSE(ParseDurationSeconds(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace nb::nbctl
