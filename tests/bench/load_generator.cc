// A load generator for ws-frontend: N WebSocket connections running one scenario for a
// while, then throughput and latency percentiles.
//
//   load_generator --port=8080 --token=T [--connections=10] [--seconds=10]
//                  [--scenario=read|multi|events] [--frontend_pid=PID]
//                  [--product=sagoo-product] [--devices=KEYS]
//
// read    each connection: READ_PROPERTY of temperature on one device (--devices, default
//         device1), one at a time
// multi   each connection: READ_PROPERTY on several devices (--devices, default "*": every
//         device of the product), one at a time
// events  each connection: one live subscription to every property report of the product
//
// Latency is from sending a sub to its complete (read, multi). For events, the rate of
// events received. With --frontend_pid, the frontend's RSS per connection is reported.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/json/parse.hpp"
#include "tests/bench/bench_stats.h"
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
};

struct Totals {
  std::vector<double> latencies_us;
  long completed = 0;
  long events = 0;
  long errors = 0;
  long connected = 0;
  bool stopping = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, const Config& config, Totals& totals, int index)
      : ws_(io), config_(config), totals_(totals), index_(index) {}

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
                                      self->Next();
                                      self->Read();
                                    });
        });
  }

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void Fail() { ++totals_.errors; }

  void Next() {
    if (totals_.stopping) return;
    std::string frame;
    if (config_.scenario == "events") {
      if (subscribed_) return;
      subscribed_ = true;
      frame = absl::StrCat(R"({"id":"e","type":"sub","topic":"/device/)", config_.product,
                           R"(/*/message/property/report"})");
    } else {
      frame = absl::StrCat(
          R"({"id":"r)", sequence_++, R"(","type":"sub","topic":"/device-message-sender/)",
          config_.product, "/", config_.devices,
          R"(","parameter":{"messageType":"READ_PROPERTY","properties":["temperature"]}})");
    }
    outgoing_ = std::move(frame);
    sent_at_ = Clock::now();
    ws_.async_write(asio::buffer(outgoing_),
                    [self = shared_from_this()](beast::error_code error, std::size_t) {
                      if (error) self->Fail();
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
      return;
    }
    if (text.find(R"("type":"complete")") != std::string::npos) {
      totals_.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - sent_at_).count());
      ++totals_.completed;
      Next();
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  const Config& config_;
  Totals& totals_;
  const int index_;
  beast::flat_buffer buffer_;
  std::string outgoing_;
  Clock::time_point sent_at_;
  long sequence_ = 0;
  bool subscribed_ = false;
};

std::string StringFlag(int argc, char** argv, const std::string& name,
                       const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  config.port = static_cast<int>(nb::bench::Flag(argc, argv, "port", 8080));
  config.token = StringFlag(argc, argv, "token", "");
  config.scenario = StringFlag(argc, argv, "scenario", "read");
  config.product = StringFlag(argc, argv, "product", config.product);
  config.devices = StringFlag(argc, argv, "devices", config.scenario == "multi" ? "*" : "device1");
  const long connections = nb::bench::Flag(argc, argv, "connections", 10);
  const long seconds = nb::bench::Flag(argc, argv, "seconds", 10);
  const long frontend_pid = nb::bench::Flag(argc, argv, "frontend_pid", 0);
  if (config.token.empty() ||
      (config.scenario != "read" && config.scenario != "multi" && config.scenario != "events")) {
    std::fprintf(stderr,
                 "usage: load_generator --token=T [--port=8080] [--connections=N] [--seconds=S] "
                 "[--scenario=read|multi|events] [--frontend_pid=PID] "
                 "[--product=P] [--devices=KEYS]\n");
    return 2;
  }

  asio::io_context io;
  Totals totals;
  const long rss_before = frontend_pid ? nb::testing::RssKib(frontend_pid) : 0;
  std::vector<std::shared_ptr<Connection>> pool;
  for (long i = 0; i < connections; ++i) {
    pool.push_back(std::make_shared<Connection>(io, config, totals, static_cast<int>(i)));
    pool.back()->Start();
  }
  // Connect everyone first, then measure for the duration.
  const auto connect_deadline = Clock::now() + std::chrono::seconds(60);
  while (totals.connected + totals.errors < connections && Clock::now() < connect_deadline) {
    io.run_for(std::chrono::milliseconds(10));
  }
  totals.latencies_us.clear();
  totals.completed = 0;
  totals.events = 0;
  const auto start = Clock::now();
  io.run_for(std::chrono::seconds(seconds));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const long rss_after = frontend_pid ? nb::testing::RssKib(frontend_pid) : 0;
  totals.stopping = true;
  for (auto& connection : pool) connection->Close();
  io.run_for(std::chrono::milliseconds(200));

  std::printf("scenario=%s connections=%ld connected=%ld seconds=%.1f errors=%ld\n",
              config.scenario.c_str(), connections, totals.connected, elapsed, totals.errors);
  if (config.scenario == "events") {
    std::printf("events received: %ld (%.0f/s)\n", totals.events, totals.events / elapsed);
  } else {
    const nb::bench::Percentiles p = nb::bench::Summarize(totals.latencies_us);
    std::printf("requests: %ld (%.0f/s)  latency us: p50=%.0f p90=%.0f p99=%.0f max=%.0f\n",
                totals.completed, totals.completed / elapsed, p.p50, p.p90, p.p99, p.max);
  }
  if (frontend_pid) {
    std::printf("frontend RSS: %ld KiB before, %ld KiB loaded, %.1f KiB per connection\n",
                rss_before, rss_after,
                connections > 0 ? static_cast<double>(rss_after - rss_before) / connections : 0.0);
  }
  return totals.connected == connections && totals.errors == 0 ? 0 : 1;
}
