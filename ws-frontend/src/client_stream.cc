#include "ws-frontend/src/client_stream.h"

#include <algorithm>

#include "boost/asio/write.hpp"

namespace nb::frontend {

ClientStream::Tcp* ClientStream::Timed() {
  if (auto* tcp = std::get_if<Tcp>(&layer_)) return tcp;
  if (auto* tls = std::get_if<Tls>(&layer_)) return &tls->next_layer();
  return nullptr;
}

ClientStream::Socket& ClientStream::socket() {
  if (Tcp* tcp = Timed()) return tcp->socket();
  return std::get<Socket>(layer_);
}

void ClientStream::expires_after(std::chrono::steady_clock::duration timeout) {
  if (Tcp* tcp = Timed()) tcp->expires_after(timeout);
}

void ClientStream::DropTimeouts() {
  if (auto* tcp = std::get_if<Tcp>(&layer_)) {
    Socket socket = tcp->release_socket();
    // WriteNow's writes must not wait; Asio's own operations are unaffected.
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    layer_.emplace<Socket>(std::move(socket));
  } else if (Tcp* timed = Timed()) {
    timed->expires_never();
  }
}

void ClientStream::ShutdownSend() {
  boost::system::error_code ignored;
  socket().shutdown(Socket::shutdown_send, ignored);
}

void ClientStream::Close() {
  boost::system::error_code ignored;
  socket().close(ignored);
}

size_t ClientStream::WriteNow(std::string_view bytes) {
  auto* socket = std::get_if<Socket>(&layer_);
  if (socket == nullptr || out_ || write_error_ || bytes.empty()) return 0;
  boost::system::error_code error;
  const size_t written = socket->write_some(boost::asio::buffer(bytes.data(), bytes.size()), error);
  if (error == boost::asio::error::would_block || error == boost::asio::error::try_again) return 0;
  if (error) write_error_ = error;
  return written;
}

size_t ClientStream::ReadNow(char* data, size_t size, boost::system::error_code& error) {
  return std::get<Socket>(layer_).read_some(boost::asio::buffer(data, size), error);
}

void ClientStream::Write(Waiters waiters) {
  if (write_error_ || out_->pending.empty()) {
    // The connection is broken, and every write says so; or only empty writes wait, as
    // written as everything before them.
    for (auto& waiter : waiters) waiter->Complete(write_error_);
    out_.reset();
    return;
  }
  Outbound& out = *out_;
  out.writing = true;
  out.in_flight.swap(out.pending);
  auto owned = std::make_unique<Waiters>(std::move(waiters));
  out.waiters = owned.get();
  auto written = [this, owned = std::move(owned)](boost::system::error_code error,
                                                  size_t bytes) mutable {
    OnWritten(error, bytes, std::move(*owned));
  };
  std::visit(
      [&](auto& layer) {
        boost::asio::async_write(layer, boost::asio::buffer(out.in_flight), std::move(written));
      },
      layer_);
}

void ClientStream::OnWritten(boost::system::error_code error, size_t bytes, Waiters waiters) {
  // The waiters' handlers hold this stream's owner until they run (posted): `this` lives.
  Outbound& out = *out_;
  out.writing = false;
  out.waiters = nullptr;
  out.written += bytes;
  out.in_flight.clear();
  if (error) {
    write_error_ = error;
    return Write(std::move(waiters));
  }
  auto done = std::find_if(waiters.begin(), waiters.end(),
                           [&](const auto& waiter) { return waiter->end() > out.written; });
  for (auto it = waiters.begin(); it != done; ++it) (*it)->Complete({});
  waiters.erase(waiters.begin(), done);
  Write(std::move(waiters));
}

}  // namespace nb::frontend
