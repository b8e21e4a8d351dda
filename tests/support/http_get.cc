#include "tests/support/http_get.h"

#include <chrono>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace nb::testing {

namespace beast = boost::beast;
namespace http = beast::http;

HttpResult HttpGet(int port, const std::string& target,
                   const std::map<std::string, std::string>& headers) {
  return HttpRequest(port, "GET", target, headers);
}

HttpResult HttpRequest(int port, const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers) {
  HttpResult result;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code error;
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                static_cast<unsigned short>(port)),
                 error);
  if (error) return result;
  http::request<http::empty_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  http::write(stream, request, error);
  if (error) return result;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser, error);
  if (error) return result;
  result.status = parser.get().result_int();
  result.body = parser.get().body();
  for (const auto& field : parser.get()) {
    result.headers[std::string(field.name_string())] = std::string(field.value());
  }
  return result;
}

double ScrapeMetric(int port, const std::string& sample) {
  const std::string body = HttpGet(port, "/metrics").body;
  const size_t at = body.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + sample.size() + 2));
}

}  // namespace nb::testing
