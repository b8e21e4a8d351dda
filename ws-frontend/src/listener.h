#ifndef NORTHBOUND_WS_FRONTEND_LISTENER_H_
#define NORTHBOUND_WS_FRONTEND_LISTENER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "ws-frontend/src/frontend_context.h"

namespace nb::frontend {

// Accepts TCP connections and hands each to an HttpSession on a strand of its own, on the
// network loops in turn (each loop is an io_context run by one thread). Open() and Stop()
// are called from the main thread; the accept loop runs on the listener's strand.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `loops` is not empty; the first also runs the accept loop.
  Listener(std::vector<boost::asio::io_context*> loops, FrontendContext& context);

  absl::Status Open(const std::string& host, int port);
  int port() const { return port_; }
  void Run();
  // Stops accepting; connections already accepted go on.
  void Stop();

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code error, boost::asio::ip::tcp::socket socket);

  const std::vector<boost::asio::io_context*> loops_;
  size_t next_loop_ = 0;  // On the strand.
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  FrontendContext& context_;
  int port_ = 0;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_LISTENER_H_
