#include "ws-frontend/src/listener.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/ip/address.hpp"
#include "common/log.h"
#include "ws-frontend/src/http_session.h"

namespace nb::frontend {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Listener::Listener(std::vector<asio::io_context*> loops, FrontendContext& context)
    : loops_(std::move(loops)),
      strand_(asio::make_strand(*loops_.front())),
      acceptor_(strand_),
      context_(context) {}

absl::Status Listener::Open(const std::string& host, int port) {
  boost::system::error_code error;
  const asio::ip::address address = asio::ip::make_address(host, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("bad listen address ", host));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", error.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void Listener::Run() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::DoAccept() {
  // Each connection gets its own strand: all of a session's state is touched only there.
  // The loops take connections in turn; a session never moves, so what it posts to itself
  // runs on the same thread without waking another.
  asio::io_context& loop = *loops_[next_loop_];
  next_loop_ = (next_loop_ + 1) % loops_.size();
  acceptor_.async_accept(
      asio::make_strand(loop),
      [self = shared_from_this()](boost::system::error_code error, tcp::socket socket) {
        self->OnAccept(error, std::move(socket));
      });
}

void Listener::OnAccept(boost::system::error_code error, tcp::socket socket) {
  if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (error) {
    // Out of file descriptors and the like: log and keep accepting.
    log::Warn("accept failed", {{"error", error.message()}});
  } else if (context_.state.draining.load()) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    boost::system::error_code ignored;
    // Small frames go out back to back (result, then complete): no Nagle delay.
    socket.set_option(tcp::no_delay(true), ignored);
    if (context_.limits.socket_send_buffer_bytes > 0) {
      socket.set_option(
          asio::socket_base::send_buffer_size(context_.limits.socket_send_buffer_bytes), ignored);
    }
    std::make_shared<HttpSession>(std::move(socket), context_)->Run();
  }
  DoAccept();
}

}  // namespace nb::frontend
