#include "ws-frontend/src/client_stream.h"

#include <algorithm>

#include "boost/asio/write.hpp"

namespace nb::frontend {

void ClientStream::Write() {
  Outbound& out = *out_;
  if (out.writing) return;
  if (write_error_) {
    // The connection is broken: nothing more leaves, and every write says so.
    for (auto& waiter : out.waiters) waiter->Complete(write_error_);
    out_.reset();
    return;
  }
  if (out.pending.empty()) {
    // Only empty writes wait: they are as written as everything before them.
    for (auto& waiter : out.waiters) waiter->Complete({});
    out_.reset();
    return;
  }
  out.writing = true;
  out.in_flight.swap(out.pending);
  auto written = [this](boost::system::error_code error, size_t bytes) { OnWritten(error, bytes); };
  if (tls_) {
    boost::asio::async_write(*tls_, boost::asio::buffer(out.in_flight), std::move(written));
  } else {
    boost::asio::async_write(*tcp_, boost::asio::buffer(out.in_flight), std::move(written));
  }
}

void ClientStream::OnWritten(boost::system::error_code error, size_t bytes) {
  Outbound& out = *out_;
  out.writing = false;
  out.written += bytes;
  out.in_flight.clear();
  if (error) {
    write_error_ = error;
    return Write();
  }
  auto done = std::find_if(out.waiters.begin(), out.waiters.end(),
                           [&](const auto& waiter) { return waiter->end() > out.written; });
  for (auto it = out.waiters.begin(); it != done; ++it) (*it)->Complete({});
  out.waiters.erase(out.waiters.begin(), done);
  Write();
}

}  // namespace nb::frontend
