#ifndef NORTHBOUND_WS_FRONTEND_FRONTEND_STATE_H_
#define NORTHBOUND_WS_FRONTEND_FRONTEND_STATE_H_

#include <atomic>

namespace nb::frontend {

// Process-wide state every session may read from any thread.
struct FrontendState {
  // Set on SIGTERM: /readyz turns false and new connections are refused.
  std::atomic<bool> draining{false};
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_FRONTEND_STATE_H_
