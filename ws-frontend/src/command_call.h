#ifndef NORTHBOUND_WS_FRONTEND_COMMAND_CALL_H_
#define NORTHBOUND_WS_FRONTEND_COMMAND_CALL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

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
    // the read's arena): what waits for the strand is the frame.
    Message message;
    if constexpr (std::is_same_v<Message, EventFrame>) {
      // Subscriptions ask for JSON_MEMBERS (CommandChannel); a DeviceEvent is rendered here.
      message.text = event.has_event_json() ? JsonEventFrame(sub_id_, event.event_json())
                                            : DeviceEventFrame(sub_id_, event.event());
    } else {
      message.text = SendReplyFrame(sub_id_, product_key_, event.reply());
      message.code = event.reply().code();
    }
    bool post;
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox_.push_back(std::move(message));
      post = !std::exchange(drain_posted_, true);
    }
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
    }
    if (auto stream = stream_.lock()) stream->Cancel(command_id_);
  }

 private:
  void PostDrain() {
    boost::asio::post(strand_, [self = this->shared_from_this()] {
      {
        std::lock_guard<std::mutex> lock(self->mu_);
        self->drain_posted_ = false;
      }
      self->Deliver();
    });
  }

  void Deliver() {
    while (!done_) {
      std::optional<Message> message;
      std::optional<absl::Status> end;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!inbox_.empty()) {
          if (!credit_) return;
          credit_ = false;
          message.emplace(std::move(inbox_.front()));
          inbox_.pop_front();
        } else if (end_) {
          end = end_;
        } else {
          return;
        }
      }
      auto sink = sink_.lock();
      if (!sink) return Cancel();
      if (message) {
        delivering_ = true;
        sink->OnStreamMessage(call_id_, std::move(*message));
        delivering_ = false;
        if (window_ > 0 && ++taken_ >= (window_ + 1) / 2) GiveCredit();
      } else {
        done_ = true;
        sink->OnStreamDone(call_id_, *end);
      }
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
  std::deque<Message> inbox_;
  std::optional<absl::Status> end_;
  bool drain_posted_ = false;

  // Strand-only.
  bool credit_ = true;
  bool delivering_ = false;
  bool done_ = false;
  // Events taken since credit was last given back.
  uint32_t taken_ = 0;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_COMMAND_CALL_H_
