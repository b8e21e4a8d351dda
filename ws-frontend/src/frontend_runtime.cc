#include "ws-frontend/src/frontend_runtime.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"
#include "common/log.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "ws-frontend/src/websocket_session.h"

namespace nb::frontend {

namespace {

absl::Status CheckPositive(const char* name, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", name, " must be positive"));
}

std::vector<std::unique_ptr<boost::asio::io_context>> MakeLoops(int count) {
  std::vector<std::unique_ptr<boost::asio::io_context>> loops;
  // Concurrency hint 1: one thread runs each, so its own posts skip the wake-up.
  for (int i = 0; i < count; ++i) loops.push_back(std::make_unique<boost::asio::io_context>(1));
  return loops;
}

absl::Status CheckOptions(const FrontendRuntimeOptions& options) {
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError("--threads must be 1..256");
  }
  const SessionLimits& limits = options.limits;
  for (auto [name, value] : std::initializer_list<std::pair<const char*, double>>{
           {"device_channels", options.device_channels},
           {"max_frame_bytes", static_cast<double>(limits.max_frame_bytes)},
           {"max_subscriptions", static_cast<double>(limits.max_subscriptions)},
           {"frames_per_second", limits.frames_per_second},
           {"frame_burst", limits.frame_burst},
           {"rate_abuse_seconds", static_cast<double>(limits.rate_abuse_window.count())},
           {"outbound_limit_bytes", static_cast<double>(limits.outbound_limit_bytes)},
           {"event_backlog_bytes", static_cast<double>(limits.event_backlog_bytes)},
           {"slow_consumer_seconds", static_cast<double>(limits.slow_consumer_after.count())},
           {"idle_timeout_seconds", static_cast<double>(limits.idle_timeout.count())},
           {"request_timeout_seconds", static_cast<double>(limits.request_timeout.count())},
           {"auth_timeout_ms", static_cast<double>(options.auth_timeout.count())},
           {"tls_reload_interval_ms", static_cast<double>(options.tls_reload_interval.count())}}) {
    if (absl::Status s = CheckPositive(name, value); !s.ok()) return s;
  }
  if (limits.event_linger < std::chrono::milliseconds(0) ||
      limits.event_linger > std::chrono::milliseconds(1000)) {
    return absl::InvalidArgumentError("--event_linger_ms must be 0..1000");
  }
  if (limits.socket_send_buffer_bytes < 0) {
    return absl::InvalidArgumentError("--socket_send_buffer_bytes must be >= 0");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FrontendRuntime>> FrontendRuntime::Create(
    const FrontendRuntimeOptions& options, prometheus::Registry& metrics_registry) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      GrpcChannelCredentials(options.backend_tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<ServerTls> tls;
  if (options.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<ServerTls>> loaded = ServerTls::Load(options.tls);
    if (!loaded.ok()) return loaded.status();
    tls = *std::move(loaded);
  }
  return std::unique_ptr<FrontendRuntime>(
      new FrontendRuntime(options, metrics_registry, *std::move(credentials), std::move(tls)));
}

FrontendRuntime::FrontendRuntime(const FrontendRuntimeOptions& options,
                                 prometheus::Registry& metrics_registry,
                                 std::shared_ptr<grpc::ChannelCredentials> backend_credentials,
                                 std::unique_ptr<ServerTls> tls)
    : options_(options),
      loops_(MakeLoops(options.threads)),
      io_(*loops_.front()),
      metrics_(metrics_registry),
      devices_(options.device_service, options.device_channels, backend_credentials),
      auth_(BackendChannel(options.auth_service, backend_credentials), io_, options.auth_cache,
            options.auth_timeout, [this](bool hit) { metrics_.CountAuthCache(hit); }),
      tls_(std::move(tls)),
      tls_timer_(std::make_unique<boost::asio::steady_timer>(io_)) {
  context_.tls = tls_.get();
  if (tls_) metrics_.tls_certificate_expiry().Set(static_cast<double>(tls_->not_after()));
  context_.limits = options.limits;
  context_.allowed_origins = options.allowed_origins;
  context_.serve_console = options.serve_console;
  context_.metrics = &metrics_;
  context_.devices = &devices_;
  context_.auth = &auth_;
  std::vector<boost::asio::io_context*> loops;
  for (const auto& loop : loops_) loops.push_back(loop.get());
  listener_ = std::make_shared<Listener>(std::move(loops), context_);
}

FrontendRuntime::~FrontendRuntime() { Stop(); }

absl::Status FrontendRuntime::Start() {
  if (absl::Status s = listener_->Open(options_.listen_host, options_.port); !s.ok()) return s;
  for (const auto& loop : loops_) {
    work_.push_back(boost::asio::make_work_guard(*loop));
    threads_.emplace_back([&io = *loop] { io.run(); });
  }

  // A revocation (or a reconnected watch, after which anything may have changed) makes
  // the affected sessions ask auth-service again; those no longer valid close with 1008.
  auth_.StartWatch(
      [this](const std::string& client_id) {
        context_.registry.ForEach([&](const auto& session) { session->Revalidate(client_id); });
      },
      [this] { context_.registry.ForEach([](const auto& session) { session->Revalidate(); }); });
  if (tls_) ScheduleTlsReload();
  listener_->Run();
  return absl::OkStatus();
}

void FrontendRuntime::ScheduleTlsReload() {
  tls_timer_->expires_after(options_.tls_reload_interval);
  tls_timer_->async_wait([this](boost::system::error_code error) {
    if (error) return;
    // Reading two small files: short enough for a loop thread.
    absl::StatusOr<bool> reloaded = tls_->ReloadIfChanged();
    if (!reloaded.ok()) {
      metrics_.CountTlsReload(false);
      log::Error("tls certificate not reloaded; the previous one stays",
                 {{"error", std::string(reloaded.status().message())}});
    } else if (*reloaded) {
      metrics_.CountTlsReload(true);
      metrics_.tls_certificate_expiry().Set(static_cast<double>(tls_->not_after()));
      log::Info("tls certificate reloaded", {{"not_after", std::to_string(tls_->not_after())}});
    }
    ScheduleTlsReload();
  });
}

void FrontendRuntime::Drain(absl::Duration grace) {
  context_.state.draining.store(true);
  listener_->Stop();
  context_.registry.ForEach([](const auto& session) { session->Shutdown(); });
  const absl::Time deadline = absl::Now() + grace;
  while (context_.registry.size() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  auth_.Stop();
  devices_.Shutdown();
  // Cancelled streams end on gRPC threads; their reactors post to the loops and hold
  // contexts on the channels, so both must outlive the last of them.
  const auto left = std::chrono::milliseconds(
      std::max<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now()), 1000));
  if (!devices_.live_calls().WaitIdle(left)) {
    log::Error("device-service calls still live at shutdown",
               {{"calls", std::to_string(devices_.live_calls().live())}});
  }
}

void FrontendRuntime::Stop() {
  if (work_.empty()) return;
  work_.clear();
  for (const auto& loop : loops_) loop->stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace nb::frontend
