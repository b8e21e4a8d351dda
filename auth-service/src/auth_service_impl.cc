#include "auth-service/src/auth_service_impl.h"

#include "absl/strings/match.h"
#include "auth-service/src/token.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/status.h"

namespace nb::auth {

grpc::ServerUnaryReactor* AuthServiceImpl::ValidateToken(
    grpc::CallbackServerContext* context, const authpb::ValidateTokenRequest* request,
    authpb::ValidateTokenResponse* response) {
  *response = directory_.Validate(request->token());
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

// One WatchRevocations stream: the watcher's queue written one event at a time. Decided
// under the lock, StartWrite/Finish called after it (see device-service's streams).
class WatchStream {
 public:
  explicit WatchStream(grpc::ServerWriteReactor<authpb::RevocationEvent>* reactor)
      : reactor_(reactor) {}

  void Attach(std::shared_ptr<RevocationWatcher> watcher) { watcher_ = std::move(watcher); }
  const std::shared_ptr<RevocationWatcher>& watcher() const { return watcher_; }

  void Pump() {
    MutexLock lock(mu_);
    if (writing_ || finished_) return;
    grpc::Status status;
    bool finish = false;
    if (end_ != grpc::StatusCode::OK) {
      finish = true;
      status = grpc::Status(
          end_, end_ == grpc::StatusCode::CANCELLED ? "cancelled" : "auth-service is stopping");
    } else if (watcher_->overflowed()) {
      finish = true;
      status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "watcher fell too far behind");
    } else if (watcher_->Take(current_)) {
      writing_ = true;
    } else {
      return;
    }
    finished_ = finish;
    lock.Unlock();
    if (finish) {
      reactor_->Finish(status);
    } else {
      reactor_->StartWrite(&current_);
    }
  }

  void OnWriteDone(bool ok) {
    {
      MutexLock lock(mu_);
      writing_ = false;
      if (!ok) end_ = grpc::StatusCode::CANCELLED;
    }
    Pump();
  }

  void End(grpc::StatusCode code) {
    {
      MutexLock lock(mu_);
      if (end_ == grpc::StatusCode::OK) end_ = code;
    }
    Pump();
  }

 private:
  grpc::ServerWriteReactor<authpb::RevocationEvent>* const reactor_;
  std::shared_ptr<RevocationWatcher> watcher_;
  Mutex mu_;
  authpb::RevocationEvent current_;
  // Initial metadata, sent once the watch is registered, is the first write.
  bool writing_ ABSL_GUARDED_BY(mu_) = true;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::StatusCode end_ ABSL_GUARDED_BY(mu_) = grpc::StatusCode::OK;
};

namespace {

class WatchReactor final : public grpc::ServerWriteReactor<authpb::RevocationEvent> {
 public:
  WatchReactor(AuthServiceImpl& service, RevocationFeed& feed)
      : service_(service), feed_(feed), stream_(std::make_shared<WatchStream>(this)) {}

  const std::shared_ptr<WatchStream>& stream() const { return stream_; }

  void OnSendInitialMetadataDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->End(grpc::StatusCode::CANCELLED); }
  void OnDone() override {
    feed_.Remove(stream_->watcher().get());
    service_.Forget(stream_.get());
    delete this;
  }

 private:
  AuthServiceImpl& service_;
  RevocationFeed& feed_;
  std::shared_ptr<WatchStream> stream_;
};

}  // namespace

grpc::ServerWriteReactor<authpb::RevocationEvent>* AuthServiceImpl::WatchRevocations(
    grpc::CallbackServerContext*, const authpb::WatchRevocationsRequest*) {
  auto* reactor = new WatchReactor(*this, feed_);
  std::weak_ptr<WatchStream> weak = reactor->stream();
  auto watcher = std::make_shared<RevocationWatcher>([weak] {
    if (auto stream = weak.lock()) stream->Pump();
  });
  reactor->stream()->Attach(watcher);
  {
    MutexLock lock(mu_);
    streams_.push_back(reactor->stream());
  }
  feed_.Add(std::move(watcher));
  // The watch is live from here: the caller sees the initial metadata.
  reactor->StartSendInitialMetadata();
  return reactor;
}

void AuthServiceImpl::Forget(const WatchStream* stream) {
  MutexLock lock(mu_);
  std::erase_if(streams_, [&](const auto& s) { return s.get() == stream; });
}

void AuthServiceImpl::EndWatches() {
  std::vector<std::shared_ptr<WatchStream>> streams;
  {
    MutexLock lock(mu_);
    streams = streams_;
  }
  for (const auto& stream : streams) stream->End(grpc::StatusCode::UNAVAILABLE);
}

bool ClientAdminImpl::Authorized(const grpc::CallbackServerContext& context) const {
  if (admin_credential_.empty()) return false;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return false;
  const absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(value, kBearer)) return false;
  return ConstantTimeEquals(value.substr(kBearer.size()), admin_credential_);
}

namespace {

std::string ResultName(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "ok";
    case absl::StatusCode::kInvalidArgument:
      return "invalid";
    case absl::StatusCode::kNotFound:
      return "not_found";
    default:
      return "error";
  }
}

}  // namespace

template <typename Response, typename Work>
grpc::ServerUnaryReactor* ClientAdminImpl::Run(grpc::CallbackServerContext* context,
                                               const char* operation, Response* response,
                                               Work work) {
  auto* reactor = context->DefaultReactor();
  if (!Authorized(*context)) {
    metrics_.CountAdmin(operation, "unauthenticated");
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                 "ClientAdmin needs the admin credential as 'authorization: "
                                 "Bearer <credential>'"));
    return reactor;
  }
  // The database thread does the work and finishes the call; the reaction returns now.
  executor_.Post([this, reactor, operation, response, work = std::move(work)]() mutable {
    absl::StatusOr<Response> result = work();
    if (result.ok()) *response = *std::move(result);
    const absl::Status status = result.status();
    metrics_.CountAdmin(operation, ResultName(status));
    if (status.code() == absl::StatusCode::kInternal) {
      log::Error("client admin failed",
                 {{"operation", operation}, {"error", std::string(status.message())}});
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ClientAdminImpl::CreateClient(grpc::CallbackServerContext* context,
                                                        const authpb::CreateClientRequest* request,
                                                        authpb::CreateClientResponse* response) {
  return Run(context, "create", response, [this, request] { return directory_.Create(*request); });
}

grpc::ServerUnaryReactor* ClientAdminImpl::ListClients(grpc::CallbackServerContext* context,
                                                       const authpb::ListClientsRequest* request,
                                                       authpb::ListClientsResponse* response) {
  return Run(context, "list", response, [this, request] { return directory_.List(*request); });
}

grpc::ServerUnaryReactor* ClientAdminImpl::GetClient(grpc::CallbackServerContext* context,
                                                     const authpb::GetClientRequest* request,
                                                     authpb::Client* response) {
  return Run(context, "get", response, [this, request] { return directory_.Get(request->id()); });
}

grpc::ServerUnaryReactor* ClientAdminImpl::UpdateClient(grpc::CallbackServerContext* context,
                                                        const authpb::UpdateClientRequest* request,
                                                        authpb::Client* response) {
  return Run(context, "update", response, [this, request] { return directory_.Update(*request); });
}

grpc::ServerUnaryReactor* ClientAdminImpl::RevokeClient(grpc::CallbackServerContext* context,
                                                        const authpb::RevokeClientRequest* request,
                                                        authpb::Client* response) {
  return Run(context, "revoke", response,
             [this, request] { return directory_.Revoke(request->id()); });
}

grpc::ServerUnaryReactor* ClientAdminImpl::RotateToken(grpc::CallbackServerContext* context,
                                                       const authpb::RotateTokenRequest* request,
                                                       authpb::RotateTokenResponse* response) {
  return Run(context, "rotate", response,
             [this, request] { return directory_.Rotate(request->id()); });
}

grpc::ServerUnaryReactor* ClientAdminImpl::DeleteClient(grpc::CallbackServerContext* context,
                                                        const authpb::DeleteClientRequest* request,
                                                        authpb::DeleteClientResponse* response) {
  return Run(context, "delete", response,
             [this, request]() -> absl::StatusOr<authpb::DeleteClientResponse> {
               absl::Status status = directory_.Delete(request->id());
               if (!status.ok()) return status;
               return authpb::DeleteClientResponse();
             });
}

}  // namespace nb::auth
