#ifndef NORTHBOUND_TESTS_SUPPORT_HTTP_GET_H_
#define NORTHBOUND_TESTS_SUPPORT_HTTP_GET_H_

#include <map>
#include <string>

namespace nb::testing {

struct HttpResult {
  // 0 when no answer could be had (connection refused, timeout).
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

// A blocking HTTP/1.1 GET to 127.0.0.1:port with a 5 s timeout.
HttpResult HttpGet(int port, const std::string& target,
                   const std::map<std::string, std::string>& headers = {});

// The same with another method (GET, POST, DELETE ...), no body.
HttpResult HttpRequest(int port, const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {});

// The value of an unlabelled (or fully labelled, e.g. `name{kind="x"}`) sample in the
// /metrics exposition on `port`; -1 when absent or unreachable.
double ScrapeMetric(int port, const std::string& sample);

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_HTTP_GET_H_
