#include "ws-frontend/src/client_stream.h"

#include <algorithm>

#include "boost/asio/write.hpp"

namespace nb::frontend {

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
  if (tls_) {
    boost::asio::async_write(*tls_, boost::asio::buffer(out.in_flight), std::move(written));
  } else {
    boost::asio::async_write(*tcp_, boost::asio::buffer(out.in_flight), std::move(written));
  }
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
