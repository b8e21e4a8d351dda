#include "nbctl/ws_commands.h"

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

constexpr char kUsage[] = R"(usage: nbctl ws [--url ws://HOST:PORT] --token TOKEN [COMMAND]

  ws sub TOPIC [--read P1,P2 | --write P=V,... | --invoke FUNCTION [--input N=V,...]]
               [--async] [--timeout MS] [--id ID] [--count N]
      send one sub and print the answers; a command ends with its complete, an event
      topic runs until Ctrl-C or N results
  ws            interactive: each line typed is sent as a frame; answers are printed

The token may also come from NB_TOKEN; --url defaults to ws://localhost:8080.
Values in --write/--input are JSON when they parse as JSON (20.5, true, "x"), else text.
)";

json::value ParseValue(const std::string& text) {
  json::error_code error;
  json::value value = json::parse(text, error);
  if (!error) return value;
  return json::string(text);
}

absl::StatusOr<json::object> ParsePairs(const std::string& text) {
  json::object object;
  for (absl::string_view pair : absl::StrSplit(text, ',', absl::SkipEmpty())) {
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

absl::StatusOr<json::object> BuildSubFrame(const Arguments& arguments) {
  if (arguments.words.size() < 3) return absl::InvalidArgumentError("ws sub needs a topic");
  json::object frame;
  frame["id"] = arguments.Get("id").value_or("nbctl-1");
  frame["type"] = "sub";
  frame["topic"] = arguments.words[2];
  json::object parameter;
  if (std::optional<std::string> read = arguments.Get("read")) {
    parameter["messageType"] = "READ_PROPERTY";
    json::array properties;
    for (absl::string_view id : absl::StrSplit(*read, ',', absl::SkipEmpty()))
      properties.emplace_back(std::string(id));
    parameter["properties"] = std::move(properties);
  } else if (std::optional<std::string> write = arguments.Get("write")) {
    absl::StatusOr<json::object> values = ParsePairs(*write);
    if (!values.ok()) return values.status();
    parameter["messageType"] = "WRITE_PROPERTY";
    parameter["properties"] = *std::move(values);
  } else if (std::optional<std::string> function = arguments.Get("invoke")) {
    absl::StatusOr<json::object> inputs = ParsePairs(arguments.Get("input").value_or(""));
    if (!inputs.ok()) return inputs.status();
    parameter["messageType"] = "INVOKE_FUNCTION";
    parameter["functionId"] = *function;
    parameter["inputs"] = *std::move(inputs);
  }
  json::object headers;
  if (arguments.Has("async")) headers["async"] = true;
  if (std::optional<std::string> timeout = arguments.Get("timeout")) {
    int ms;
    if (!absl::SimpleAtoi(*timeout, &ms))
      return absl::InvalidArgumentError("--timeout takes milliseconds");
    headers["timeout"] = ms;
  }
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

int RunWsCommand(const Arguments& arguments, std::istream& in, std::ostream& out,
                 std::ostream& err) {
  const char* env_token = std::getenv("NB_TOKEN");
  const std::string token = arguments.Get("token").value_or(env_token ? env_token : "");
  if (token.empty()) {
    err << "nbctl: no token (--token or NB_TOKEN)\n" << kUsage;
    return 2;
  }
  const std::string url = arguments.Get("url").value_or("ws://localhost:8080");
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "ws") {
    err << "nbctl: --url must look like ws://HOST:PORT\n";
    return 2;
  }
  const std::string host(parsed->host());
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";

  const bool interactive = arguments.words.size() == 1;
  std::optional<json::object> sub;
  if (!interactive) {
    if (arguments.words[1] != "sub") {
      err << kUsage;
      return 2;
    }
    absl::StatusOr<json::object> frame = BuildSubFrame(arguments);
    if (!frame.ok()) {
      err << "nbctl: " << frame.status().message() << "\n";
      return 2;
    }
    sub = *std::move(frame);
  }
  const long count = std::stol(arguments.Get("count").value_or("0"));

  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws(io);
  beast::error_code error;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, error);
  if (!error) beast::get_lowest_layer(ws).connect(endpoints, error);
  if (!error) {
    // The token travels in a header, not in the URL, so it stays out of proxy logs.
    ws.set_option(websocket::stream_base::decorator([&token](websocket::request_type& request) {
      request.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws.handshake(absl::StrCat(host, ":", port), "/messaging", error);
  }
  if (error) {
    err << "nbctl: cannot connect to " << url << ": " << error.message() << "\n";
    return 1;
  }

  // Everything below runs on this thread's io_context: one read loop, and writes queued
  // one at a time (typed lines arrive from a reader thread by post).
  std::deque<std::string> outbox;
  bool writing = false;
  bool close_when_sent = false;
  std::function<void()> write_next = [&] {
    if (writing) return;
    if (outbox.empty()) {
      if (close_when_sent) {
        close_when_sent = false;
        ws.async_close(websocket::close_code::normal, [&io](beast::error_code) { io.stop(); });
      }
      return;
    }
    writing = true;
    ws.async_write(asio::buffer(outbox.front()), [&](beast::error_code, std::size_t) {
      outbox.pop_front();
      writing = false;
      write_next();
    });
  };
  auto send = [&](std::string text) {
    outbox.push_back(std::move(text));
    write_next();
  };
  if (sub) {
    send(json::serialize(*sub));
  } else {
    auto work = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        io.get_executor());
    std::thread([&io, &in, &send, &close_when_sent, &write_next, work] {
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty()) asio::post(io, [&send, line] { send(line); });
      }
      // End of input (Ctrl-D): say goodbye once what was typed is sent.
      asio::post(io, [&close_when_sent, &write_next] {
        close_when_sent = true;
        write_next();
      });
    }).detach();
  }

  long results = 0;
  int exit_code = 0;
  beast::flat_buffer buffer;
  std::function<void()> read_next = [&] {
    ws.async_read(buffer, [&](beast::error_code read_error, std::size_t) {
      if (read_error) {
        if (read_error == websocket::error::closed) {
          out << "closed " << ws.reason().code << " "
              << std::string(ws.reason().reason.data(), ws.reason().reason.size()) << "\n";
          if (ws.reason().code != websocket::close_code::normal) exit_code = 1;
        } else {
          err << "nbctl: " << read_error.message() << "\n";
          exit_code = 1;
        }
        io.stop();
        return;
      }
      const std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      json::error_code parse_error;
      json::value value = json::parse(text, parse_error);
      if (parse_error || !value.is_object()) {
        out << text << std::endl;
        return read_next();
      }
      const json::object& frame = value.get_object();
      out << Describe(frame) << std::endl;
      const std::string type = Field(frame, "type");
      if (type == "error" || type == "authError") exit_code = 1;
      if (type == "result") ++results;
      if (sub && ((type == "complete" && Field(frame, "id") == Field(*sub, "id")) ||
                  (count > 0 && results >= count))) {
        ws.async_close(websocket::close_code::normal, [&](beast::error_code) { io.stop(); });
        return;
      }
      read_next();
    });
  };
  read_next();
  io.run();
  return exit_code;
}

}  // namespace nb::nbctl
