#ifndef NORTHBOUND_WS_FRONTEND_SESSION_REGISTRY_H_
#define NORTHBOUND_WS_FRONTEND_SESSION_REGISTRY_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/mutex.h"

namespace nb::frontend {

class WebsocketSession;

// Every live WebSocket session, so revocations and the shutdown drain can reach them.
// Thread-safe; the callbacks of ForEach run under no lock and must only post.
class SessionRegistry {
 public:
  void Add(const std::shared_ptr<WebsocketSession>& session);
  void Remove(const WebsocketSession* session);
  void ForEach(const std::function<void(const std::shared_ptr<WebsocketSession>&)>& fn) const;
  size_t size() const;

 private:
  mutable Mutex mu_;
  absl::flat_hash_map<const WebsocketSession*, std::weak_ptr<WebsocketSession>> sessions_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_SESSION_REGISTRY_H_
