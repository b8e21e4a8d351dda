#ifndef NORTHBOUND_WS_FRONTEND_RATE_LIMITER_H_
#define NORTHBOUND_WS_FRONTEND_RATE_LIMITER_H_

#include <algorithm>
#include <chrono>

namespace nb::frontend {

// A token bucket: `rate` frames per second sustained, bursts up to `burst`. Not
// thread-safe; a session owns one on its strand.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate, double burst)
      : rate_(rate), burst_(burst), tokens_(burst), last_(Clock::now()) {}

  bool Allow(Clock::time_point now = Clock::now()) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  const double rate_;
  const double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_RATE_LIMITER_H_
