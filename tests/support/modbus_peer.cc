#include "tests/support/modbus_peer.h"

#include <signal.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/support/mosquitto.h"

namespace nb::testing {

ModbusPeer::ModbusPeer(std::string dir, std::string units, int port)
    : dir_(std::move(dir)), units_(std::move(units)), port_(port) {}

std::string ModbusPeer::endpoint() const { return absl::StrCat("127.0.0.1:", port_); }

std::string ModbusPeer::log() const {
  return starts_ == 0 ? "" : ReadFile(absl::StrCat(dir_, "/modbus-", starts_, ".log"));
}

bool ModbusPeer::Start() {
  if (port_ == 0) port_ = FreeLoopbackPort();
  ++starts_;
  seq_ = 0;
  process_ = std::make_unique<Process>(Process::StartWithInput(
      {"/usr/bin/python3", NB_MODBUS_PEER, "--port", std::to_string(port_), "--units", units_},
      absl::StrCat(dir_, "/modbus-", starts_, ".log")));
  return WaitFor([&] { return log().find("ready") != std::string::npos; },
                 std::chrono::seconds(20)) &&
         WaitForListener(port_, std::chrono::seconds(5));
}

void ModbusPeer::Kill() {
  if (process_) process_->Kill();
}

void ModbusPeer::Pause() {
  if (process_) process_->Signal(SIGSTOP);
}

void ModbusPeer::Resume() {
  if (process_) process_->Signal(SIGCONT);
}

std::optional<std::string> ModbusPeer::Control(const std::string& request) {
  const int seq = ++seq_;
  if (!process_ || !process_->WriteLine(absl::StrCat(R"({"seq":)", seq, ",", request, "}"))) {
    return std::nullopt;
  }
  std::optional<std::string> answer;
  WaitFor(
      [&] {
        const std::string text = log();
        for (const char* kind : {"ok ", "value ", "error "}) {
          const std::string head = absl::StrCat("\n", kind, seq);
          size_t at = text.find(head);
          if (at == std::string::npos) continue;
          const size_t end = text.find('\n', at + 1);
          if (end == std::string::npos) return false;  // not all written yet
          answer = text.substr(at + 1, end - at - 1);
          return true;
        }
        return false;
      },
      std::chrono::seconds(10));
  return answer;
}

bool ModbusPeer::Set(int unit, const std::string& table, int address, const std::string& type,
                     double value, const std::string& word_order, const std::string& byte_order) {
  std::optional<std::string> answer = Control(absl::StrCat(
      R"("op":"set","unit":)", unit, R"(,"table":")", table, R"(","address":)", address,
      R"(,"type":")", type, R"(","word_order":")", word_order, R"(","byte_order":")", byte_order,
      R"(","value":)",
      type == "bool" ? (value != 0 ? "true" : "false") : absl::StrFormat("%.17g", value)));
  return answer.has_value() && answer->rfind("ok ", 0) == 0;
}

std::optional<double> ModbusPeer::Get(int unit, const std::string& table, int address,
                                      const std::string& type, const std::string& word_order,
                                      const std::string& byte_order) {
  std::optional<std::string> answer =
      Control(absl::StrCat(R"("op":"get","unit":)", unit, R"(,"table":")", table, R"(","address":)",
                           address, R"(,"type":")", type, R"(","word_order":")", word_order,
                           R"(","byte_order":")", byte_order, R"(")"));
  if (!answer || answer->rfind("value ", 0) != 0) return std::nullopt;
  const std::string text = answer->substr(answer->rfind(' ') + 1);
  if (text == "true") return 1;
  if (text == "false") return 0;
  double value;
  if (!absl::SimpleAtod(text, &value)) return std::nullopt;
  return value;
}

}  // namespace nb::testing
