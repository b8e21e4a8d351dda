#include "common/auth_client.h"

#include <optional>

#include "boost/asio/post.hpp"
#include "common/log.h"
#include "grpcpp/channel.h"

namespace nb {

namespace authpb = northbound::auth::v1;

namespace {
constexpr size_t kMaxCacheEntries = 100'000;
}  // namespace

// The long-lived WatchRevocations call. Lives until OnDone; reports to the client.
class AuthClient::Watch final : public grpc::ClientReadReactor<authpb::RevocationEvent> {
 public:
  explicit Watch(AuthClient& client) : client_(client) {
    client_.stub_->async()->WatchRevocations(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok && client_.on_resync_) client_.on_resync_();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    client_.Forget(event_.client_id());
    if (client_.on_client_changed_) client_.on_client_changed_(event_.client_id());
    StartRead(&event_);
  }

  void OnDone(const grpc::Status&) override {
    // Stop cancels the watch through the client until the client lets go of it: it does
    // so first, before the context goes. And the context goes before Stop may return:
    // nothing of the call outlives the client.
    AuthClient& client = client_;
    client.OnWatchClosing();
    delete this;
    client.OnWatchEnded();
  }

 private:
  AuthClient& client_;
  grpc::ClientContext context_;
  authpb::WatchRevocationsRequest request_;
  authpb::RevocationEvent event_;
};

AuthClient::AuthClient(std::shared_ptr<grpc::Channel> channel, boost::asio::io_context& io,
                       std::chrono::milliseconds cache_ttl, std::chrono::milliseconds timeout,
                       std::function<void(bool hit)> on_cache_lookup)
    : channel_(std::move(channel)),
      stub_(authpb::AuthService::NewStub(channel_)),
      io_(io),
      cache_ttl_(cache_ttl),
      timeout_(timeout),
      on_cache_lookup_(std::move(on_cache_lookup)),
      retry_timer_(std::make_unique<boost::asio::steady_timer>(io)) {}

AuthClient::~AuthClient() { Stop(); }

bool AuthClient::Reachable() const {
  const grpc_connectivity_state state = channel_->GetState(true);
  return state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN;
}

void AuthClient::Validate(const std::string& token, bool fresh, ValidateCallback done) {
  const auto now = std::chrono::steady_clock::now();
  if (!fresh) {
    std::optional<authpb::ValidateTokenResponse> cached;
    {
      MutexLock lock(mu_);
      auto it = cache_.find(token);
      if (it != cache_.end() && it->second.expires > now) cached = it->second.response;
    }
    if (cached) {
      if (on_cache_lookup_) on_cache_lookup_(true);
      done(*std::move(cached));
      return;
    }
  }
  if (on_cache_lookup_) on_cache_lookup_(false);
  // Counted until the last member is gone, so Stop returns only after the ClientContext.
  struct InFlight {
    explicit InFlight(AuthClient& client) : client(client) {
      MutexLock lock(client.mu_);
      ++client.in_flight_;
    }
    ~InFlight() {
      MutexLock lock(client.mu_);
      --client.in_flight_;
      client.watch_done_.notify_all();
    }
    AuthClient& client;
  };
  struct Call {
    explicit Call(AuthClient& client) : in_flight(client) {}
    InFlight in_flight;  // Declared first: destroyed last.
    grpc::ClientContext context;
    authpb::ValidateTokenRequest request;
    authpb::ValidateTokenResponse response;
  };
  auto call = std::make_shared<Call>(*this);
  call->request.set_token(token);
  call->context.set_deadline(std::chrono::system_clock::now() + timeout_);
  stub_->async()->ValidateToken(
      &call->context, &call->request, &call->response,
      [this, call, done = std::move(done)](grpc::Status status) {
        if (status.ok()) {
          MutexLock lock(mu_);
          if (cache_.size() >= kMaxCacheEntries) cache_.clear();
          const auto now = std::chrono::steady_clock::now();
          cache_[call->request.token()] = {call->response, now + cache_ttl_, now};
        }
        if (status.ok()) {
          done(call->response);
        } else if (auto last = OutageAnswer(call->request.token())) {
          done(*std::move(last));
        } else {
          done(absl::UnavailableError("auth-service is not available"));
        }
      });
}

std::optional<authpb::ValidateTokenResponse> AuthClient::OutageAnswer(const std::string& token) {
  if (outage_grace_.count() <= 0) return std::nullopt;
  MutexLock lock(mu_);
  auto it = cache_.find(token);
  if (it == cache_.end() || it->second.response.status() != authpb::VALID) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.checked > outage_grace_) return std::nullopt;
  const auto& principal = it->second.response.principal();
  if (principal.has_expires_at() &&
      principal.expires_at().seconds() <= std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count()) {
    return std::nullopt;
  }
  return it->second.response;
}

void AuthClient::Forget(const std::string& client_id) {
  MutexLock lock(mu_);
  absl::erase_if(cache_, [&](const auto& entry) {
    return entry.second.response.principal().client_id() == client_id;
  });
}

void AuthClient::StartWatch(std::function<void(const std::string&)> on_client_changed,
                            std::function<void()> on_resync) {
  on_client_changed_ = std::move(on_client_changed);
  on_resync_ = std::move(on_resync);
  OpenWatch();
}

void AuthClient::OpenWatch() {
  MutexLock lock(mu_);
  if (stopping_) return;
  watch_ = new Watch(*this);
  watch_open_ = true;
}

void AuthClient::OnWatchClosing() {
  MutexLock lock(mu_);
  watch_ = nullptr;
}

void AuthClient::OnWatchEnded() {
  {
    MutexLock lock(mu_);
    watch_open_ = false;
    watch_done_.notify_all();
    if (stopping_) return;
    // While the watch is down revocations may be missed: cached answers are not reused
    // without asking again (they are kept only as the outage answers).
    for (auto& [token, entry] : cache_) entry.expires = {};
  }
  ScheduleWatch(std::chrono::seconds(1));
}

void AuthClient::ScheduleWatch(std::chrono::milliseconds delay) {
  boost::asio::post(io_, [this, delay] {
    retry_timer_->expires_after(delay);
    retry_timer_->async_wait([this](boost::system::error_code error) {
      if (!error) OpenWatch();
    });
  });
}

void AuthClient::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (watch_ != nullptr) watch_->Cancel();
  }
  // Wait for the watch's OnDone, which touches this object.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  MutexLock lock(mu_);
  while (watch_open_ || in_flight_ != 0) {
    if (!lock.WaitUntil(watch_done_, deadline)) break;
  }
}

}  // namespace nb
