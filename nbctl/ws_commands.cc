#include "nbctl/ws_commands.h"

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/url/parse.hpp"
#include "common/json_text.h"

namespace nb::nbctl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;

json::value ParseValue(const std::string& text) {
  json::error_code error;
  json::value value = json::parse(text, error);
  if (!error) return value;
  return json::string(text);
}

absl::StatusOr<json::object> ParsePairs(const std::vector<std::string>& pairs) {
  json::object object;
  for (absl::string_view pair : pairs) {
    const size_t equals = pair.find('=');
    if (equals == absl::string_view::npos || equals == 0) {
      return absl::InvalidArgumentError(absl::StrCat("expected NAME=VALUE, got '", pair, "'"));
    }
    object[std::string(pair.substr(0, equals))] = ParseValue(std::string(pair.substr(equals + 1)));
  }
  return object;
}

std::string Field(const json::object& frame, const char* key) {
  const json::value* value = frame.if_contains(key);
  if (value == nullptr) return "";
  return value->is_string() ? std::string(value->get_string()) : Serialize(*value);
}

}  // namespace

absl::StatusOr<json::object> BuildSubFrame(const SubOptions& options) {
  json::object frame;
  frame["id"] = options.id;
  frame["type"] = "sub";
  frame["topic"] = options.topic;
  json::object parameter;
  if (!options.read.empty()) {
    parameter["messageType"] = "READ_PROPERTY";
    json::array properties;
    for (const std::string& id : options.read) properties.emplace_back(id);
    parameter["properties"] = std::move(properties);
  } else if (!options.write.empty()) {
    absl::StatusOr<json::object> values = ParsePairs(options.write);
    if (!values.ok()) return values.status();
    parameter["messageType"] = "WRITE_PROPERTY";
    parameter["properties"] = *std::move(values);
  } else if (!options.invoke.empty()) {
    absl::StatusOr<json::object> inputs = ParsePairs(options.inputs);
    if (!inputs.ok()) return inputs.status();
    parameter["messageType"] = "INVOKE_FUNCTION";
    parameter["functionId"] = options.invoke;
    parameter["inputs"] = *std::move(inputs);
  }
  json::object headers;
  if (options.async) headers["async"] = true;
  if (options.timeout_ms > 0) headers["timeout"] = options.timeout_ms;
  if (!headers.empty()) parameter["headers"] = std::move(headers);
  if (!parameter.empty()) frame["parameter"] = std::move(parameter);
  return frame;
}

std::string Describe(const json::object& frame) {
  const std::string type = Field(frame, "type");
  const std::string id = Field(frame, "id");
  const std::string prefix = id.empty() ? "" : absl::StrCat("[", id, "] ");
  if (type == "result") {
    std::string line = absl::StrCat(prefix, Field(frame, "topic"));
    if (frame.contains("async")) absl::StrAppend(&line, "  (async: accepted)");
    absl::StrAppend(&line, "  ", Field(frame, "payload"));
    if (frame.contains("code"))
      absl::StrAppend(&line, "  ", Field(frame, "code"), ": ", Field(frame, "message"));
    return line;
  }
  if (type == "error") {
    std::string line = absl::StrCat(prefix, "error ", Field(frame, "code"));
    if (frame.contains("deviceId")) absl::StrAppend(&line, " ", Field(frame, "deviceId"));
    return absl::StrCat(line, ": ", Field(frame, "message"));
  }
  if (type == "complete") return absl::StrCat(prefix, "complete");
  if (type == "pong") return absl::StrCat(prefix, "pong");
  if (type == "authError") return absl::StrCat("authentication failed: ", Field(frame, "message"));
  return Serialize(frame);
}

namespace {

// One WebSocket conversation on the calling thread's io_context: one read loop, and
// writes queued one at a time (typed lines arrive from a reader thread by post).
class Conversation {
 public:
  // Connects and upgrades; false (with the reason on `err`) when that fails.
  bool Connect(const WsConnection& connection, std::ostream& err) {
    boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_uri(connection.url);
    if (!parsed || parsed->scheme() != "ws" || parsed->host().empty()) {
      err << "nbctl: --url must look like ws://HOST:PORT\n";
      return false;
    }
    const std::string host(parsed->host());
    const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
    beast::error_code error;
    asio::ip::tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host, port, error);
    if (!error) beast::get_lowest_layer(ws_).connect(endpoints, error);
    if (!error) {
      // The token travels in a header, not in the URL, so it stays out of proxy logs.
      ws_.set_option(websocket::stream_base::decorator(
          [token = connection.token](websocket::request_type& request) {
            request.set(beast::http::field::authorization, "Bearer " + token);
          }));
      ws_.handshake(absl::StrCat(host, ":", port), "/messaging", error);
    }
    if (error) {
      err << "nbctl: cannot connect to " << connection.url << ": " << error.message() << "\n";
      return false;
    }
    return true;
  }

  void Send(std::string text) {
    outbox_.push_back(std::move(text));
    WriteNext();
  }

  // Sends each line of `in` (read on a thread of its own), then closes.
  void SendLinesOf(std::istream& in) {
    auto work = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        io_.get_executor());
    std::thread([this, &in, work] {
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty()) asio::post(io_, [this, line] { Send(line); });
      }
      // End of input (Ctrl-D): say goodbye once what was typed is sent.
      asio::post(io_, [this] {
        close_when_sent_ = true;
        WriteNext();
      });
    }).detach();
  }

  // Prints every frame until the server closes or `done(frame)` says so. Returns the
  // exit status.
  int Run(std::ostream& out, std::ostream& err,
          std::function<bool(const json::object&)> done = nullptr) {
    out_ = &out;
    err_ = &err;
    done_ = std::move(done);
    ReadNext();
    io_.run();
    return exit_code_;
  }

 private:
  void WriteNext() {
    if (writing_) return;
    if (outbox_.empty()) {
      if (close_when_sent_) {
        close_when_sent_ = false;
        Close();
      }
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(outbox_.front()), [this](beast::error_code, std::size_t) {
      outbox_.pop_front();
      writing_ = false;
      WriteNext();
    });
  }

  void Close() {
    ws_.async_close(websocket::close_code::normal, [this](beast::error_code) { io_.stop(); });
  }

  void ReadNext() {
    ws_.async_read(buffer_, [this](beast::error_code error, std::size_t) {
      if (error) return OnReadError(error);
      const std::string text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      json::error_code parse_error;
      json::value value = json::parse(text, parse_error);
      if (parse_error || !value.is_object()) {
        *out_ << text << std::endl;
        return ReadNext();
      }
      const json::object& frame = value.get_object();
      *out_ << Describe(frame) << std::endl;
      const std::string type = Field(frame, "type");
      if (type == "error" || type == "authError") exit_code_ = 1;
      if (done_ && done_(frame)) return Close();
      ReadNext();
    });
  }

  void OnReadError(beast::error_code error) {
    if (error == websocket::error::closed) {
      *out_ << "closed " << ws_.reason().code << " "
            << std::string(ws_.reason().reason.data(), ws_.reason().reason.size()) << "\n";
      if (ws_.reason().code != websocket::close_code::normal) exit_code_ = 1;
    } else {
      *err_ << "nbctl: " << error.message() << "\n";
      exit_code_ = 1;
    }
    io_.stop();
  }

  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_{io_};
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool close_when_sent_ = false;
  std::ostream* out_ = nullptr;
  std::ostream* err_ = nullptr;
  std::function<bool(const json::object&)> done_;
  int exit_code_ = 0;
};

}  // namespace

int RunWsSub(const WsConnection& connection, const SubOptions& options, std::ostream& out,
             std::ostream& err) {
  absl::StatusOr<json::object> sub = BuildSubFrame(options);
  if (!sub.ok()) {
    err << "nbctl: " << sub.status().message() << "\n";
    return 2;
  }
  Conversation conversation;
  if (!conversation.Connect(connection, err)) return 1;
  conversation.Send(json::serialize(*sub));
  int64_t results = 0;
  return conversation.Run(out, err, [&](const json::object& frame) {
    const std::string type = Field(frame, "type");
    if (type == "result") ++results;
    return (type == "complete" && Field(frame, "id") == options.id) ||
           (options.count > 0 && results >= options.count);
  });
}

int RunWsInteractive(const WsConnection& connection, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  Conversation conversation;
  if (!conversation.Connect(connection, err)) return 1;
  conversation.SendLinesOf(in);
  return conversation.Run(out, err);
}

}  // namespace nb::nbctl
