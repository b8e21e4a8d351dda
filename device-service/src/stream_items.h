#ifndef NORTHBOUND_DEVICE_SERVICE_STREAM_ITEMS_H_
#define NORTHBOUND_DEVICE_SERVICE_STREAM_ITEMS_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/mutex.h"
#include "device-service/src/authorizer.h"
#include "device-service/src/command_dispatcher.h"
#include "device-service/src/event_bus.h"
#include "northbound/device/v1/device_service.pb.h"

// The commands and subscriptions a Commands stream carries (command_stream.cc serves the
// stream itself).
namespace nb::device {

class StreamCommand;
class StreamWatch;

// The stream that carries commands and subscriptions, as they reach it: weakly, since a
// reply or a revocation may come after the stream is gone. Any thread.
class StreamHost {
 public:
  virtual ~StreamHost() = default;
  // A command's reply; dropped once the command is over.
  virtual void Emit(const StreamCommand* command, devicepb::SendReply reply) = 0;
  // Ends a live command with `status` (OK: every device answered).
  virtual void End(StreamCommand* command, const absl::Status& status) = 0;
  // Ends a live subscription with `status`.
  virtual void EndWatch(const StreamWatch* watch, const absl::Status& status) = 0;
};

// What a cancel or the stream's end stops: a command or a subscription, which the
// authorizer re-checks from Track until Stop. Any thread.
class StreamItem : public GuardedStream {
 public:
  // Stops the item's work and its re-checks; idempotent.
  void Stop();

 protected:
  // The caller is known and allowed: the authorizer re-checks the item from now on. False
  // (and nothing tracked) when it was stopped meanwhile.
  bool Track(const Caller& caller, Authorizer& authorizer,
             const std::shared_ptr<GuardedStream>& self);
  // What Stop ends besides the re-checks, once `stopped_` is set.
  virtual void StopWork() {}

  Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;

 private:
  std::optional<Caller> caller_ ABSL_GUARDED_BY(mu_);
  Authorizer* authorizer_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// One command of a Commands stream: what the authorizer re-checks, and what a cancel or
// the stream's end stops. Its request is written once, before it is shared. Any thread.
class StreamCommand final : public StreamItem {
 public:
  StreamCommand(std::weak_ptr<StreamHost> host, uint64_t id, devicepb::SendRequest request)
      : host_(std::move(host)), id_(id), request_(std::move(request)) {}

  uint64_t id() const { return id_; }
  const devicepb::SendRequest& request() const { return request_; }

  // The caller is known and allowed: tracks it and starts the command.
  void Start(const Caller& caller, CommandDispatcher& dispatcher, Authorizer& authorizer,
             const std::shared_ptr<StreamCommand>& self);
  void Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) override;

 private:
  // The device waits end.
  void StopWork() override;

  const std::weak_ptr<StreamHost> host_;
  const uint64_t id_;
  const devicepb::SendRequest request_;
  std::shared_ptr<SendOperation> operation_ ABSL_GUARDED_BY(mu_);
};

// One subscription of a Commands stream: what the authorizer re-checks (its client may lose
// the right to watch, or some devices), and what a cancel or the stream's end stops. Its
// bus subscription and the credit it has are the stream's. Any thread.
class StreamWatch final : public StreamItem {
 public:
  StreamWatch(std::weak_ptr<StreamHost> host, uint64_t id) : host_(std::move(host)), id_(id) {}

  uint64_t id() const { return id_; }

  // The caller is known and allowed: tracks it, with the bus subscription that re-checks
  // narrow (false when stopped meanwhile).
  bool Track(const Caller& caller, std::shared_ptr<Subscription> subscription,
             Authorizer& authorizer, const std::shared_ptr<StreamWatch>& self);
  void Reauthorized(const absl::StatusOr<PermissionsPtr>& permissions) override;

 private:
  const std::weak_ptr<StreamHost> host_;
  const uint64_t id_;
  std::shared_ptr<Subscription> subscription_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_STREAM_ITEMS_H_
