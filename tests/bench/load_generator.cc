// A load generator for ws-frontend (and for the reference server of scripts/bench):
// N WebSocket connections running one scenario for a while, then throughput, latency
// percentiles and, for the processes named, CPU time and context switches per request.
//
//   load_generator --port=8080 --token=T [--connections=10] [--in_flight=1] [--seconds=10]
//                  [--scenario=read|multi|events|idle] [--frontend_pid=PID]
//                  [--measure=NAME:PID,...] [--label=L] [--json=FILE]
//                  [--product=sagoo-product] [--devices=KEYS]
//
// read    each connection: READ_PROPERTY of temperature on one device (--devices, default
//         device1), keeping --in_flight of them outstanding
// multi   each connection: READ_PROPERTY on several devices (--devices, default "*": every
//         device of the product), --in_flight at a time
// events  each connection: one live subscription to every property report of the product
// idle    each connection: authenticated and open, nothing sent (what a connection costs)
//
// Latency is from sending a sub to its complete (read, multi). For events, the rate of
// events received. With --frontend_pid, the frontend's RSS per connection. --measure reads
// each process's CPU time and context switches from /proc over the measured window, and the
// load generator's own, and reports them per request (per event for events). --json appends
// the figures as one JSON object per line, labelled --label.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "tests/bench/bench_stats.h"
#include "tests/bench/proc_usage.h"
#include "tests/support/process.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

struct Config {
  int port = 8080;
  std::string token;
  std::string scenario = "read";
  std::string product = "sagoo-product";
  std::string devices;  // The topic's device part.
  long in_flight = 1;
};

struct Totals {
  std::vector<double> latencies_us;
  long completed = 0;
  long events = 0;
  // The events device-service dropped for these subscribers (the frames' "dropped" counts).
  long dropped = 0;
  long errors = 0;
  long connected = 0;
  bool stopping = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, const Config& config, Totals& totals)
      : ws_(io), config_(config), totals_(totals) {}

  void Start() {
    beast::get_lowest_layer(ws_).async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                static_cast<unsigned short>(config_.port)),
        [self = shared_from_this()](beast::error_code error) {
          if (error) return self->Fail();
          beast::get_lowest_layer(self->ws_).socket().set_option(asio::ip::tcp::no_delay(true));
          self->ws_.async_handshake("127.0.0.1", "/messaging/" + self->config_.token,
                                    [self](beast::error_code handshake_error) {
                                      if (handshake_error) return self->Fail();
                                      ++self->totals_.connected;
                                      self->Read();
                                      if (self->config_.scenario == "events") {
                                        self->Subscribe();
                                      } else if (self->config_.scenario != "idle") {
                                        for (long i = 0; i < self->config_.in_flight; ++i) {
                                          self->Next();
                                        }
                                      }
                                    });
        });
  }

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void Fail() { ++totals_.errors; }

  void Subscribe() {
    Send(absl::StrCat(R"({"id":"e","type":"sub","topic":"/device/)", config_.product,
                      R"(/*/message/property/report"})"));
  }

  void Next() {
    if (totals_.stopping) return;
    const long id = sequence_++;
    sent_at_[id] = Clock::now();
    Send(absl::StrCat(
        R"({"id":"r)", id, R"(","type":"sub","topic":"/device-message-sender/)", config_.product,
        "/", config_.devices,
        R"(","parameter":{"messageType":"READ_PROPERTY","properties":["temperature"]}})"));
  }

  // One write at a time, as Beast requires; frames wait their turn in order.
  void Send(std::string frame) {
    outbound_.push_back(std::move(frame));
    if (outbound_.size() == 1) Write();
  }

  void Write() {
    ws_.async_write(asio::buffer(outbound_.front()),
                    [self = shared_from_this()](beast::error_code error, std::size_t) {
                      if (error) return self->Fail();
                      self->outbound_.pop_front();
                      if (!self->outbound_.empty()) self->Write();
                    });
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code error, std::size_t) {
      if (error) return;
      const std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->OnFrame(text);
      self->Read();
    });
  }

  void OnFrame(const std::string& text) {
    if (totals_.stopping) return;
    if (text.find(R"("type":"error")") != std::string::npos &&
        text.find("CLIENT_OFFLINE") == std::string::npos) {
      ++totals_.errors;
    }
    if (config_.scenario == "events") {
      if (text.find(R"("type":"result")") != std::string::npos) ++totals_.events;
      constexpr std::string_view kDropped = R"("dropped":)";
      if (const size_t at = text.find(kDropped); at != std::string::npos) {
        totals_.dropped += std::strtol(text.c_str() + at + kDropped.size(), nullptr, 10);
      }
      return;
    }
    if (text.find(R"("type":"complete")") == std::string::npos) return;
    const size_t at = text.find(R"("id":"r)");
    long id = -1;
    if (at == std::string::npos ||
        !absl::SimpleAtoi(text.substr(at + 7, text.find('"', at + 7) - (at + 7)), &id)) {
      return Fail();
    }
    const auto sent = sent_at_.find(id);
    if (sent == sent_at_.end()) return Fail();
    totals_.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - sent->second).count());
    sent_at_.erase(sent);
    ++totals_.completed;
    Next();
  }

  websocket::stream<beast::tcp_stream> ws_;
  const Config& config_;
  Totals& totals_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbound_;
  std::unordered_map<long, Clock::time_point> sent_at_;
  long sequence_ = 0;
};

// "--measure=ws-frontend:123,device-service:456"
std::vector<std::pair<std::string, long>> Processes(const std::string& spec) {
  std::vector<std::pair<std::string, long>> processes;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    const std::pair<std::string, std::string> parts = absl::StrSplit(item, ':');
    long pid = 0;
    if (absl::SimpleAtoi(parts.second, &pid)) processes.emplace_back(parts.first, pid);
  }
  return processes;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  config.port = static_cast<int>(nb::bench::Flag(argc, argv, "port", 8080));
  config.token = nb::bench::StringFlag(argc, argv, "token", "");
  config.scenario = nb::bench::StringFlag(argc, argv, "scenario", "read");
  config.product = nb::bench::StringFlag(argc, argv, "product", config.product);
  config.devices =
      nb::bench::StringFlag(argc, argv, "devices", config.scenario == "multi" ? "*" : "device1");
  config.in_flight = nb::bench::Flag(argc, argv, "in_flight", 1);
  const long connections = nb::bench::Flag(argc, argv, "connections", 10);
  const long seconds = nb::bench::Flag(argc, argv, "seconds", 10);
  const long frontend_pid = nb::bench::Flag(argc, argv, "frontend_pid", 0);
  const std::string label = nb::bench::StringFlag(argc, argv, "label", "northbound");
  const std::string json_file = nb::bench::StringFlag(argc, argv, "json", "");
  auto processes = Processes(nb::bench::StringFlag(argc, argv, "measure", ""));
  // On the same cores as the servers: what it takes is what they cannot have.
  if (!processes.empty()) processes.emplace_back("load-generator", getpid());
  if (config.token.empty() || config.in_flight < 1 ||
      (config.scenario != "read" && config.scenario != "multi" && config.scenario != "events" &&
       config.scenario != "idle")) {
    std::fprintf(stderr,
                 "usage: load_generator --token=T [--port=8080] [--connections=N] "
                 "[--in_flight=K] [--seconds=S] [--scenario=read|multi|events|idle] "
                 "[--frontend_pid=PID] [--measure=NAME:PID,...] [--label=L] [--json=FILE] "
                 "[--product=P] [--devices=KEYS]\n");
    return 2;
  }

  asio::io_context io(1);
  Totals totals;
  const long rss_before = frontend_pid ? nb::testing::RssKib(frontend_pid) : 0;
  std::vector<std::shared_ptr<Connection>> pool;
  for (long i = 0; i < connections; ++i) {
    pool.push_back(std::make_shared<Connection>(io, config, totals));
    pool.back()->Start();
  }
  // Connect everyone first, let the load settle for a moment, then measure.
  const auto connect_deadline = Clock::now() + std::chrono::seconds(60);
  while (totals.connected + totals.errors < connections && Clock::now() < connect_deadline) {
    io.run_for(std::chrono::milliseconds(10));
  }
  io.run_for(std::chrono::milliseconds(200));
  totals.latencies_us.clear();
  totals.completed = 0;
  totals.events = 0;
  totals.dropped = 0;
  std::map<std::string, nb::bench::ProcUsage> before;
  for (const auto& [name, pid] : processes) before[name] = nb::bench::ReadProcUsage(pid);
  const auto start = Clock::now();
  io.run_for(std::chrono::seconds(seconds));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::map<std::string, nb::bench::ProcUsage> after;
  for (const auto& [name, pid] : processes) after[name] = nb::bench::ReadProcUsage(pid);
  const long rss_after = frontend_pid ? nb::testing::RssKib(frontend_pid) : 0;
  totals.stopping = true;
  for (auto& connection : pool) connection->Close();
  io.run_for(std::chrono::milliseconds(200));

  const bool events = config.scenario == "events";
  const long done = events ? totals.events : totals.completed;
  const nb::bench::Percentiles p = nb::bench::Summarize(totals.latencies_us);
  std::printf(
      "%s: scenario=%s connections=%ld in_flight=%ld connected=%ld seconds=%.1f "
      "errors=%ld\n",
      label.c_str(), config.scenario.c_str(), connections, config.in_flight, totals.connected,
      elapsed, totals.errors);
  if (events) {
    std::printf("events received: %ld (%.0f/s), dropped before them: %ld\n", totals.events,
                totals.events / elapsed, totals.dropped);
  } else if (config.scenario != "idle") {
    std::printf("requests: %ld (%.0f/s)  latency us: p50=%.0f p90=%.0f p99=%.0f max=%.0f\n",
                totals.completed, totals.completed / elapsed, p.p50, p.p90, p.p99, p.max);
  }
  std::string process_json;
  for (const auto& [name, pid] : processes) {
    const double cpu_us = (after[name].cpu_seconds - before[name].cpu_seconds) * 1e6;
    const long switches = after[name].context_switches - before[name].context_switches;
    const double per = done > 0 ? 1.0 / done : 0;
    std::printf("%s: %.1f us CPU and %.2f context switches per %s\n", name.c_str(), cpu_us * per,
                switches * per, events ? "event" : "request");
    absl::StrAppend(&process_json, process_json.empty() ? "" : ",", "\"", name,
                    "\":{\"cpu_us_per_op\":", cpu_us * per,
                    ",\"context_switches_per_op\":", switches * per, "}");
  }
  if (frontend_pid) {
    std::printf("frontend RSS: %ld KiB before, %ld KiB loaded, %.1f KiB per connection\n",
                rss_before, rss_after,
                connections > 0 ? static_cast<double>(rss_after - rss_before) / connections : 0.0);
  }
  if (!json_file.empty()) {
    std::ofstream(json_file, std::ios::app) << absl::StrCat(
        "{\"label\":\"", label, "\",\"scenario\":\"", config.scenario,
        "\",\"connections\":", connections, ",\"in_flight\":", config.in_flight,
        ",\"seconds\":", elapsed, ",\"errors\":", totals.errors,
        ",\"events_dropped\":", totals.dropped, ",\"ops_per_second\":", done / elapsed,
        ",\"p50_us\":", p.p50, ",\"p90_us\":", p.p90, ",\"p99_us\":", p.p99, ",\"max_us\":", p.max,
        ",\"rss_kib_per_connection\":",
        frontend_pid && connections > 0 ? static_cast<double>(rss_after - rss_before) / connections
                                        : 0.0,
        ",\"processes\":{", process_json, "}}\n");
  }
  return totals.connected == connections && totals.errors == 0 ? 0 : 1;
}
