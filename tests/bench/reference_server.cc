// The reference of scripts/bench: the least a WebSocket server has to do to answer the
// protocol's `sub` frames. Beast and Boost.JSON on one thread, no backend: every text
// frame is parsed, and a `sub` is answered at once with one `result` (shaped like
// Northbound's, device1's temperature) and one `complete`. Northbound's figures are
// reported as ratios against it, measured in the same run, so they say how close the
// gateway comes to what the machine, the kernel and Beast allow.
//
//   reference_server [--port=0] [--ports_file=FILE]   FILE gets {"http_port":N}
//
// It runs until SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "common/ports_file.h"
#include "tests/bench/bench_stats.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(asio::ip::tcp::socket socket) : ws_(std::move(socket)) {}

  void Start() {
    beast::get_lowest_layer(ws_).socket().set_option(asio::ip::tcp::no_delay(true));
    ws_.async_accept([self = shared_from_this()](beast::error_code error) {
      if (!error) self->Read();
    });
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code error, std::size_t) {
      if (error) return;
      self->OnFrame();
      self->Read();
    });
  }

  void OnFrame() {
    boost::system::error_code error;
    const json::value frame = json::parse(
        std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size()), error);
    buffer_.consume(buffer_.size());
    if (error || !frame.is_object()) return;
    const json::object& object = frame.as_object();
    const json::value* type = object.if_contains("type");
    const json::value* id = object.if_contains("id");
    const json::value* topic = object.if_contains("topic");
    if (type == nullptr || *type != "sub" || id == nullptr || topic == nullptr) return;
    const std::string quoted_id = json::serialize(*id);
    const std::string quoted_topic = json::serialize(*topic);
    ++sequence_;
    Queue(absl::StrCat(R"({"type":"result","id":)", quoted_id, R"(,"requestId":)", quoted_id,
                       R"(,"topic":)", quoted_topic,
                       R"(,"deviceId":"device1","messageId":"reference-)", sequence_,
                       R"(","timestamp":1795672791213,"payload":{"temperature":20.5}})"));
    Queue(absl::StrCat(R"({"type":"complete","id":)", quoted_id, R"(,"requestId":)", quoted_id,
                       R"(,"topic":)", quoted_topic, "}"));
  }

  void Queue(std::string frame) {
    outbound_.push_back(std::move(frame));
    if (outbound_.size() == 1) Write();
  }

  void Write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(outbound_.front()),
                    [self = shared_from_this()](beast::error_code error, std::size_t) {
                      if (error) return;
                      self->outbound_.pop_front();
                      if (!self->outbound_.empty()) self->Write();
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbound_;
  long sequence_ = 0;
};

void Accept(asio::ip::tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code error, asio::ip::tcp::socket socket) {
    if (!error) std::make_shared<Session>(std::move(socket))->Start();
    Accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  const long port = nb::bench::Flag(argc, argv, "port", 0);
  asio::io_context io(1);
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                               static_cast<unsigned short>(port)));
  const int bound = acceptor.local_endpoint().port();
  if (absl::Status written = nb::WritePortsFile(nb::bench::StringFlag(argc, argv, "ports_file", ""),
                                                {{"http_port", bound}});
      !written.ok()) {
    std::fprintf(stderr, "reference_server: %s\n", std::string(written.message()).c_str());
    return 1;
  }
  std::printf("reference_server: ws://127.0.0.1:%d/\n", bound);
  std::fflush(stdout);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  Accept(acceptor);
  io.run();
  return 0;
}
