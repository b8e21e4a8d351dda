#include "ws-frontend/src/command_channel.h"

#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "google/protobuf/arena.h"
#include "ws-frontend/src/command_call.h"

namespace nb::frontend {

namespace device = northbound::device::v1;

namespace {

// At most this much goes into one message (device-service accepts 4 MiB).
constexpr size_t kMaxPackedBytes = 1 << 20;

absl::Status StatusOf(const device::CommandEnd& end) {
  if (end.code() != ErrorCode::ERROR_CODE_UNSPECIFIED)
    return ErrorStatus(end.code(), end.message());
  const int code = end.status();
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::UnknownError(end.message());
  }
  return absl::Status(static_cast<absl::StatusCode>(code), end.message());
}

}  // namespace

class CommandReactor;

// One DeviceService.Commands stream. Sessions' strands write to it, gRPC's reactions read
// from it; `mu_` guards what they share. One write is outstanding at a time and carries
// every request queued meanwhile. The reactor stays alive while the stream holds it: the
// hold taken at the start is let go once the stream broke and no write is outstanding,
// and nothing touches the reactor from outside a reaction after that.
class CommandStream final : public CallStream, public std::enable_shared_from_this<CommandStream> {
 public:
  static std::shared_ptr<CommandStream> Open(device::DeviceService::Stub& stub, LiveCalls& live);

  // Sends `request` (a command or subscription starting when `call` is set, else a cancel).
  // False when the stream is broken; `call` and `request` are then left as they were.
  bool Send(uint64_t command_id, std::shared_ptr<ChannelCall>& call,
            device::CommandRequest& request) {
    bool write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_) return false;
      if (call) calls_.emplace(command_id, std::move(call));
      pending_.push_back(std::move(request));
      write = Pack();
    }
    if (write) StartWrite();
    return true;
  }

  void Cancel(uint64_t command_id) override {
    bool write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (calls_.erase(command_id) == 0 || broken_) return;
      device::CommandRequest& request = pending_.emplace_back();
      request.set_command_id(command_id);
      request.set_cancel(true);
      write = Pack();
    }
    if (write) StartWrite();
  }

  void Credit(uint64_t command_id, uint32_t count) override {
    bool write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_ || !calls_.contains(command_id)) return;
      device::CommandRequest& request = pending_.emplace_back();
      request.set_command_id(command_id);
      request.set_credit(count);
      write = Pack();
    }
    if (write) StartWrite();
  }

  bool broken() {
    std::lock_guard<std::mutex> lock(mu_);
    return broken_;
  }

  void Shutdown();

  // Reactions.
  void OnWriteDone(bool ok);
  void OnRead(device::CommandEvents& events);
  void OnReadFailed();
  void OnDone(const absl::Status& status);

 private:
  // Moves what is pending into the next message when no write is outstanding.
  bool Pack() {
    if (writing_ || pending_.empty()) return false;
    out_.Clear();
    size_t bytes = 0;
    while (!pending_.empty() && (out_.requests_size() == 0 || bytes < kMaxPackedBytes)) {
      bytes += pending_.front().ByteSizeLong();
      *out_.add_requests() = std::move(pending_.front());
      pending_.pop_front();
    }
    writing_ = true;
    return true;
  }
  void StartWrite();
  // Lets go of the start hold once broken and not writing; true when the caller must.
  bool Release() {
    if (!broken_ || writing_ || !held_) return false;
    held_ = false;
    return true;
  }

  CommandReactor* reactor_ = nullptr;
  std::mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<ChannelCall>> calls_;
  std::deque<device::CommandRequest> pending_;
  // The message being written; only the writer touches it.
  device::CommandRequests out_;
  bool writing_ = false;
  bool broken_ = false;
  bool held_ = false;
};

class CommandReactor final
    : public grpc::ClientBidiReactor<device::CommandRequests, device::CommandEvents> {
 public:
  CommandReactor(std::shared_ptr<CommandStream> stream, LiveCalls& live)
      : stream_(std::move(stream)), live_(live) {}

  grpc::ClientContext& context() { return context_; }
  device::CommandEvents* in() { return in_; }

  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnReadDone(bool ok) override {
    if (!ok) return stream_->OnReadFailed();
    // Nothing refers to the read once it is handled: events are rendered and replies copied
    // out (CommandCall::Push).
    stream_->OnRead(*in_);
    arena_.Reset();
    in_ = google::protobuf::Arena::CreateMessage<device::CommandEvents>(&arena_);
    StartRead(in_);
  }
  void OnDone(const grpc::Status& status) override {
    stream_->OnDone(ToAbslStatus(status, context_));
    LiveCalls& live = live_;
    delete this;
    live.Remove();
  }

 private:
  const std::shared_ptr<CommandStream> stream_;
  LiveCalls& live_;
  grpc::ClientContext context_;
  // Each read is parsed onto the arena, whose first block is kept from read to read: the
  // messages of a batch of events cost no allocation of their own.
  static google::protobuf::ArenaOptions ReadArenaOptions(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kArenaBlockBytes;
    options.max_block_size = kArenaBlockBytes;
    return options;
  }
  static constexpr size_t kArenaBlockBytes = 64 * 1024;
  std::unique_ptr<char[]> block_ = std::make_unique<char[]>(kArenaBlockBytes);
  google::protobuf::Arena arena_{ReadArenaOptions(block_.get())};
  device::CommandEvents* in_ =
      google::protobuf::Arena::CreateMessage<device::CommandEvents>(&arena_);
};

std::shared_ptr<CommandStream> CommandStream::Open(device::DeviceService::Stub& stub,
                                                   LiveCalls& live) {
  auto stream = std::make_shared<CommandStream>();
  live.Add();
  auto* reactor = new CommandReactor(stream, live);
  stream->reactor_ = reactor;
  stub.async()->Commands(&reactor->context(), reactor);
  reactor->AddHold();
  stream->held_ = true;
  reactor->StartRead(reactor->in());
  reactor->StartCall();
  return stream;
}

void CommandStream::StartWrite() { reactor_->StartWrite(&out_); }

void CommandStream::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_) return;
    // Keeps the reactor for the cancel below even if the stream breaks meanwhile.
    reactor_->AddHold();
  }
  reactor_->context().TryCancel();
  reactor_->RemoveHold();
}

void CommandStream::OnWriteDone(bool ok) {
  bool write = false;
  bool release;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    // A failed write means the stream is over; the read fails too, and OnDone ends the calls.
    if (!ok) broken_ = true;
    if (!broken_) write = Pack();
    release = Release();
  }
  if (write) StartWrite();
  if (release) reactor_->RemoveHold();
}

void CommandStream::OnRead(device::CommandEvents& events) {
  std::vector<std::pair<std::shared_ptr<ChannelCall>, device::CommandEvent*>> targets;
  size_t count = 0;
  for (const device::CommandEvent& event : events.events()) {
    count += 1 + static_cast<size_t>(event.more_command_ids_size());
  }
  targets.reserve(count);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (device::CommandEvent& event : *events.mutable_events()) {
      auto it = calls_.find(event.command_id());
      // Cancelled by its owner meanwhile.
      if (it != calls_.end()) {
        targets.emplace_back(it->second, &event);
        if (event.has_end()) calls_.erase(it);
      }
      // An event shared by several subscriptions reaches each, in the order named (only
      // events are shared).
      if (!event.has_event_json() && !event.has_event()) continue;
      for (uint64_t id : event.more_command_ids()) {
        if (auto more = calls_.find(id); more != calls_.end()) {
          targets.emplace_back(more->second, &event);
        }
      }
    }
  }
  for (auto& [call, event] : targets) {
    if (event->has_end()) {
      call->PushEnd(StatusOf(event->end()));
    } else {
      call->Push(*event);
    }
  }
}

void CommandStream::OnReadFailed() {
  bool release;
  {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
    release = Release();
  }
  if (release) reactor_->RemoveHold();
}

void CommandStream::OnDone(const absl::Status& status) {
  absl::flat_hash_map<uint64_t, std::shared_ptr<ChannelCall>> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
    calls.swap(calls_);
  }
  // Commands still live when the stream ended cannot be answered any more.
  const absl::Status ended =
      status.ok() ? ErrorStatus(ErrorCode::SERVER_NOT_AVAILABLE, "device-service ended the stream")
                  : status;
  for (auto& [id, call] : calls) call->PushEnd(ended);
}

CommandChannel::CommandChannel(device::DeviceService::Stub& stub, LiveCalls& live)
    : stub_(stub), live_(live) {}

CommandChannel::~CommandChannel() { Shutdown(); }

std::shared_ptr<CommandStream> CommandChannel::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) return nullptr;
  if (current_ == nullptr || current_->broken()) current_ = CommandStream::Open(stub_, live_);
  return current_;
}

template <typename Message>
std::shared_ptr<StreamHandle> CommandChannel::Begin(Strand strand,
                                                    std::weak_ptr<StreamSink<Message>> sink,
                                                    uint64_t call_id, uint32_t window,
                                                    std::string sub_id, std::string product_key,
                                                    device::CommandRequest& request) {
  auto call =
      std::make_shared<CommandCall<Message>>(std::move(strand), std::move(sink), call_id, window,
                                             std::move(sub_id), std::move(product_key));
  std::shared_ptr<ChannelCall> shared = call;
  const uint64_t command_id = next_command_id_.fetch_add(1, std::memory_order_relaxed);
  request.set_command_id(command_id);
  // A stream found broken is replaced once: it may have broken just now.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::shared_ptr<CommandStream> stream = Current();
    if (stream == nullptr) break;
    call->Bind(stream, command_id);
    if (stream->Send(command_id, shared, request)) return call;
  }
  call->PushEnd(ErrorStatus(ErrorCode::SERVER_NOT_AVAILABLE, "device-service is not available"));
  return call;
}

std::shared_ptr<StreamHandle> CommandChannel::Start(Strand strand,
                                                    std::weak_ptr<StreamSink<ReplyFrame>> sink,
                                                    uint64_t call_id, std::string sub_id,
                                                    device::SendRequest request,
                                                    const std::string& token) {
  device::CommandRequest command;
  command.set_token(token);
  std::string product_key = request.product_key();
  *command.mutable_send() = std::move(request);
  return Begin(std::move(strand), std::move(sink), call_id, 0, std::move(sub_id),
               std::move(product_key), command);
}

std::shared_ptr<StreamHandle> CommandChannel::Subscribe(Strand strand,
                                                        std::weak_ptr<StreamSink<EventFrame>> sink,
                                                        uint64_t call_id, std::string sub_id,
                                                        device::SubscribeRequest request,
                                                        const std::string& token) {
  device::CommandRequest command;
  command.set_token(token);
  request.set_window(kEventWindow);
  // Each event rendered once by device-service for all the sessions watching it, and sent
  // once for all of them.
  request.set_encoding(device::JSON_MEMBERS);
  request.set_share_events(true);
  *command.mutable_subscribe() = std::move(request);
  return Begin(std::move(strand), std::move(sink), call_id, kEventWindow, std::move(sub_id), {},
               command);
}

void CommandChannel::Shutdown() {
  std::shared_ptr<CommandStream> stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
    stream = current_;
  }
  if (stream) stream->Shutdown();
}

}  // namespace nb::frontend
