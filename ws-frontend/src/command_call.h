#ifndef NORTHBOUND_WS_FRONTEND_COMMAND_CALL_H_
#define NORTHBOUND_WS_FRONTEND_COMMAND_CALL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/post.hpp"
#include "northbound/device/v1/device_service.pb.h"
#include "ws-frontend/src/frame_codec.h"
#include "ws-frontend/src/streaming_call.h"

// One command or subscription of a Commands stream, as the stream and the call's owner see
// it (command_channel.cc runs the stream itself).
namespace nb::frontend {

// What a call asks of the stream that carries it. Any thread.
class CallStream {
 public:
  virtual ~CallStream() = default;
  // The owner cancelled: nothing more reaches the call, and device-service stops it.
  virtual void Cancel(uint64_t command_id) = 0;
  // The owner took `count` more of a subscription's events.
  virtual void Credit(uint64_t command_id, uint32_t count) = 0;
};

// What a stream's reactions reach of a call, whatever it carries. Any thread.
class ChannelCall {
 public:
  virtual ~ChannelCall() = default;
  // The call's next message (a command's reply or a subscription's event).
  virtual void Push(northbound::device::v1::CommandEvent& event) = 0;
  virtual void PushEnd(absl::Status status) = 0;
};

// One command or subscription as its owner sees it. The stream's reactions push what
// arrives into the inbox (under `mu_`) and wake the strand once for whatever arrived
// meanwhile; the strand hands the sink one message per credit, then the end. A
// subscription gives device-service credit back as its sink takes events, half a window
// at a time, so that at most a window of its events is ever on its way or waiting here.
// Posted work holds the call, and the sink is reached weakly, so neither outlives what it
// touches.
template <typename Message>
class CommandCall final : public StreamHandle,
                          public ChannelCall,
                          public std::enable_shared_from_this<CommandCall<Message>> {
 public:
  // `window`: a subscription's window (0 for a command). `sub_id` (and a command's
  // `product_key`): the client's subscription whose frames what comes is rendered as.
  CommandCall(Strand strand, std::weak_ptr<StreamSink<Message>> sink, uint64_t call_id,
              uint32_t window, std::string sub_id, std::string product_key)
      : strand_(std::move(strand)),
        sink_(std::move(sink)),
        call_id_(call_id),
        window_(window),
        sub_id_(std::move(sub_id)),
        product_key_(std::move(product_key)) {}

  // Before the call is shared with a stream.
  void Bind(std::weak_ptr<CallStream> stream, uint64_t command_id) {
    stream_ = std::move(stream);
    command_id_ = command_id;
  }

  void Push(northbound::device::v1::CommandEvent& event) override {
    // Rendered here, on the stream's reaction, while the message is at hand (it lives on
    // the read's arena), into this thread's scratch text, then appended to the inbox's: what
    // waits for the strand is the frame, the lock is held for a copy only, and a call's
    // frames cost no allocation of their own once the buffers have grown.
    thread_local std::string text;
    text.clear();
    ErrorCode code = ErrorCode::ERROR_CODE_UNSPECIFIED;
    if constexpr (std::is_same_v<Message, EventFrame>) {
      // Subscriptions ask for JSON_MEMBERS (CommandChannel); a DeviceEvent is rendered here.
      if (event.has_event_json()) {
        AppendJsonEventFrame(text, sub_id_, event.event_json());
      } else {
        AppendDeviceEventFrame(text, sub_id_, event.event());
      }
    } else {
      AppendSendReplyFrame(text, sub_id_, product_key_, event.reply());
      code = event.reply().code();
    }
    bool post;
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox_text_.append(text);
      inbox_.push_back(Entry{text.size(), code});
      post = !std::exchange(drain_posted_, true);
    }
    if (text.capacity() > kKeptTextBytes) std::string().swap(text);
    if (post) PostDrain();
  }
  void PushEnd(absl::Status status) override {
    bool post;
    {
      std::lock_guard<std::mutex> lock(mu_);
      end_ = std::move(status);
      post = !std::exchange(drain_posted_, true);
    }
    if (post) PostDrain();
  }

  // On the strand.
  void Resume() override {
    credit_ = true;
    // From inside OnStreamMessage the loop in Deliver goes on by itself.
    if (!delivering_) Deliver();
  }
  void Cancel() override {
    if (done_) return;
    done_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox_.clear();
      inbox_text_.clear();
    }
    // The text stays: a frame being delivered (the sink may cancel from inside) points into it.
    ready_.clear();
    if (auto stream = stream_.lock()) stream->Cancel(command_id_);
  }

 private:
  // A text buffer past this size is let go of once emptied: a burst of frames, or one large
  // frame, does not pin its size for the rest of the call.
  static constexpr size_t kKeptTextBytes = 4096;

  // One rendered message in a text buffer: its size, and a reply's code.
  struct Entry {
    size_t size;
    ErrorCode code;
  };

  void PostDrain() {
    boost::asio::post(strand_, [self = this->shared_from_this()] {
      {
        std::lock_guard<std::mutex> lock(self->mu_);
        self->drain_posted_ = false;
      }
      self->Deliver();
    });
  }

  // Takes what arrived meanwhile, swapping buffers with the inbox (each keeps its capacity),
  // or the end once everything before it was delivered. False when there is nothing to
  // take, or messages wait and the sink has no credit.
  bool Refill(std::optional<absl::Status>& end) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!inbox_.empty()) {
      if (!credit_) return false;
      ready_.clear();
      ready_text_.clear();
      if (ready_text_.capacity() > kKeptTextBytes) std::string().swap(ready_text_);
      ready_.swap(inbox_);
      ready_text_.swap(inbox_text_);
      next_ = 0;
      ready_offset_ = 0;
      return true;
    }
    if (!end_) return false;
    end = end_;
    return true;
  }

  void Deliver() {
    while (!done_) {
      std::optional<absl::Status> end;
      if (next_ == ready_.size()) {
        if (!Refill(end)) return;
      } else if (!credit_) {
        return;
      }
      auto sink = sink_.lock();
      if (!sink) return Cancel();
      if (end) {
        done_ = true;
        sink->OnStreamDone(call_id_, *end);
        return;
      }
      const Entry entry = ready_[next_++];
      Message message;
      message.text = absl::string_view(ready_text_).substr(ready_offset_, entry.size);
      if constexpr (std::is_same_v<Message, ReplyFrame>) message.code = entry.code;
      ready_offset_ += entry.size;
      credit_ = false;
      delivering_ = true;
      sink->OnStreamMessage(call_id_, message);
      delivering_ = false;
      if (window_ > 0 && ++taken_ >= (window_ + 1) / 2) GiveCredit();
    }
  }

  void GiveCredit() {
    if (auto stream = stream_.lock()) stream->Credit(command_id_, taken_);
    taken_ = 0;
  }

  const Strand strand_;
  const std::weak_ptr<StreamSink<Message>> sink_;
  const uint64_t call_id_;
  const uint32_t window_;
  const std::string sub_id_;
  const std::string product_key_;
  std::weak_ptr<CallStream> stream_;
  uint64_t command_id_ = 0;

  std::mutex mu_;
  // Rendered messages, back to back in `inbox_text_`, not yet taken by the strand.
  std::vector<Entry> inbox_;
  std::string inbox_text_;
  std::optional<absl::Status> end_;
  bool drain_posted_ = false;

  // Strand-only. The messages taken from the inbox; `next_` is the next to deliver, at
  // `ready_offset_` in `ready_text_`.
  std::vector<Entry> ready_;
  std::string ready_text_;
  size_t next_ = 0;
  size_t ready_offset_ = 0;
  bool credit_ = true;
  bool delivering_ = false;
  bool done_ = false;
  // Events taken since credit was last given back.
  uint32_t taken_ = 0;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_COMMAND_CALL_H_
