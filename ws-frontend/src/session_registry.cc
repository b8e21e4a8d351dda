#include "ws-frontend/src/session_registry.h"

#include <vector>

namespace nb::frontend {

void SessionRegistry::Add(const std::shared_ptr<WebsocketSession>& session) {
  MutexLock lock(mu_);
  sessions_[session.get()] = session;
}

void SessionRegistry::Remove(const WebsocketSession* session) {
  MutexLock lock(mu_);
  sessions_.erase(session);
}

void SessionRegistry::ForEach(
    const std::function<void(const std::shared_ptr<WebsocketSession>&)>& fn) const {
  std::vector<std::shared_ptr<WebsocketSession>> sessions;
  {
    MutexLock lock(mu_);
    sessions.reserve(sessions_.size());
    for (const auto& [key, weak] : sessions_) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
  }
  for (const auto& session : sessions) fn(session);
}

size_t SessionRegistry::size() const {
  MutexLock lock(mu_);
  return sessions_.size();
}

}  // namespace nb::frontend
