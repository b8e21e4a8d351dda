#ifndef NORTHBOUND_WS_FRONTEND_COMMAND_CHANNEL_H_
#define NORTHBOUND_WS_FRONTEND_COMMAND_CHANNEL_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "northbound/device/v1/device_service.grpc.pb.h"
#include "ws-frontend/src/frame_codec.h"
#include "ws-frontend/src/streaming_call.h"

namespace nb::frontend {

class CommandStream;

// Commands and event subscriptions to device-service over one long-lived
// DeviceService.Commands stream on one channel, instead of a Send or Subscribe call each:
// each costs a message on an open HTTP/2 stream, and what is ready together travels in
// one message both ways (a busy product's events for many subscribers, for one). For its
// owner a command or subscription is a server-streaming call: its replies or events reach
// the sink on the owner's strand one per Resume, in the order device-service sent them,
// then one OnStreamDone with its status. A subscription's events flow against credit
// (kEventWindow): one whose owner stops resuming holds up no other, and device-service
// queues its events meanwhile, dropping the oldest when full. When the stream breaks
// (device-service gone or restarting), what is live on it ends with its status and the
// next start opens a new stream. Thread-safe.
class CommandChannel {
 public:
  CommandChannel(northbound::device::v1::DeviceService::Stub& stub, LiveCalls& live);
  ~CommandChannel();
  CommandChannel(const CommandChannel&) = delete;
  CommandChannel& operator=(const CommandChannel&) = delete;

  // How many of a subscription's events may be on their way or waiting undelivered.
  static constexpr uint32_t kEventWindow = 32;

  // Starts `request` as the client holding `token`. Call on `strand`; the handle is used
  // on that strand only.
  // The devices' answers arrive rendered as frames of subscription `sub_id`.
  std::shared_ptr<StreamHandle> Start(Strand strand, std::weak_ptr<StreamSink<ReplyFrame>> sink,
                                      uint64_t call_id, std::string sub_id,
                                      northbound::device::v1::SendRequest request,
                                      const std::string& token);
  // Subscribes to `request`'s events as the client holding `token`; the same rules. The
  // events arrive rendered as result frames of subscription `sub_id`.
  std::shared_ptr<StreamHandle> Subscribe(Strand strand, std::weak_ptr<StreamSink<EventFrame>> sink,
                                          uint64_t call_id, std::string sub_id,
                                          northbound::device::v1::SubscribeRequest request,
                                          const std::string& token);

  // Cancels the open stream and opens no other; commands started later end at once with
  // SERVER_NOT_AVAILABLE. For shutdown, after the sessions are gone.
  void Shutdown();

 private:
  // The open stream, or a new one when there is none or it broke; null after Shutdown.
  std::shared_ptr<CommandStream> Current();
  // Sends `request` (its command_id is set here) with a call of `window` delivering to `sink`
  // what comes, rendered as frames of `sub_id` (and `product_key`, a command's).
  template <typename Message>
  std::shared_ptr<StreamHandle> Begin(Strand strand, std::weak_ptr<StreamSink<Message>> sink,
                                      uint64_t call_id, uint32_t window, std::string sub_id,
                                      std::string product_key,
                                      northbound::device::v1::CommandRequest& request);

  northbound::device::v1::DeviceService::Stub& stub_;
  LiveCalls& live_;
  std::atomic<uint64_t> next_command_id_{1};
  std::mutex mu_;
  std::shared_ptr<CommandStream> current_;
  bool shut_down_ = false;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_COMMAND_CHANNEL_H_
