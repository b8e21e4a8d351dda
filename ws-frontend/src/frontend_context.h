#ifndef NORTHBOUND_WS_FRONTEND_FRONTEND_CONTEXT_H_
#define NORTHBOUND_WS_FRONTEND_FRONTEND_CONTEXT_H_

#include <chrono>
#include <string>
#include <vector>

#include "common/auth_client.h"
#include "ws-frontend/src/device_client.h"
#include "ws-frontend/src/frontend_metrics.h"
#include "ws-frontend/src/frontend_state.h"
#include "ws-frontend/src/session_registry.h"
#include "ws-frontend/src/sub_planner.h"

namespace nb::frontend {

class ServerTls;

// The limits of docs/protocol.md §9 and the other per-session settings.
struct SessionLimits {
  size_t max_frame_bytes = 64 * 1024;
  size_t max_subscriptions = 128;
  double frames_per_second = 100;
  double frame_burst = 200;
  std::chrono::seconds rate_abuse_window{10};
  size_t outbound_limit_bytes = 4 * 1024 * 1024;
  // A client's events are taken only while its queue holds at most this much, and again
  // once it drained to half of it; meanwhile device-service keeps the newest of each
  // subscription's events and drops the oldest.
  size_t event_backlog_bytes = 64 * 1024;
  // Backpressure on command replies starts at half the limit. A client whose queue stays
  // above that this long, or whose events stay held back this long, is not reading and is
  // closed with 4008.
  std::chrono::seconds slow_consumer_after{10};
  std::chrono::seconds idle_timeout{60};
  // The TLS handshake, and then each HTTP request before the upgrade, must be done within
  // this long: a client trickling bytes (slowloris) is dropped.
  std::chrono::seconds request_timeout{10};
  // How long a connection's event frames may wait for the frames after them, to leave in
  // one write (0: written at once). Any other frame, a close, or held events reaching half
  // of event_backlog_bytes writes them at once.
  std::chrono::milliseconds event_linger{0};
  // Kernel send buffer per connection; 0 leaves it to the kernel's autotuning (which on
  // Linux may grow to several MiB per socket and hide a client that does not read).
  int socket_send_buffer_bytes = 256 * 1024;
};

// What every session shares. Built once in main; outlives every session.
struct FrontendContext {
  FrontendState state;
  SessionLimits limits;
  std::vector<std::string> allowed_origins;
  // Serve the operator console under /console/ (docs/console.md).
  bool serve_console = true;
  FrontendMetrics* metrics = nullptr;
  AuthClient* auth = nullptr;
  DeviceClient* devices = nullptr;
  // Set when the frontend serves wss://.
  ServerTls* tls = nullptr;
  SessionRegistry registry;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_FRONTEND_CONTEXT_H_
