#ifndef NORTHBOUND_WS_FRONTEND_COMMAND_CHANNEL_H_
#define NORTHBOUND_WS_FRONTEND_COMMAND_CHANNEL_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "northbound/device/v1/device_service.grpc.pb.h"
#include "ws-frontend/src/streaming_call.h"

namespace nb::frontend {

class CommandStream;

// Commands to device-service over one long-lived DeviceService.Commands stream on one
// channel, instead of a Send call each: a command costs a message on an open HTTP/2
// stream, and commands ready together travel in one message both ways. A command behaves
// for its owner exactly like a StreamingCall of Send: its replies reach the sink on the
// owner's strand one per Resume, in the order device-service sent them, then one
// OnStreamDone with the command's status. When the stream breaks (device-service gone or
// restarting), its live commands end with its status and the next command opens a new
// stream. Thread-safe.
class CommandChannel {
 public:
  CommandChannel(northbound::device::v1::DeviceService::Stub& stub, LiveCalls& live);
  ~CommandChannel();
  CommandChannel(const CommandChannel&) = delete;
  CommandChannel& operator=(const CommandChannel&) = delete;

  // Starts `request` as the client holding `token`. Call on `strand`; the handle, like a
  // StreamingCall's, is used on that strand only.
  std::shared_ptr<StreamHandle> Start(
      Strand strand, std::weak_ptr<StreamSink<northbound::device::v1::SendReply>> sink,
      uint64_t call_id, northbound::device::v1::SendRequest request, const std::string& token);

  // Cancels the open stream and opens no other; commands started later end at once with
  // SERVER_NOT_AVAILABLE. For shutdown, after the sessions are gone.
  void Shutdown();

 private:
  // The open stream, or a new one when there is none or it broke; null after Shutdown.
  std::shared_ptr<CommandStream> Current();

  northbound::device::v1::DeviceService::Stub& stub_;
  LiveCalls& live_;
  std::atomic<uint64_t> next_command_id_{1};
  std::mutex mu_;
  std::shared_ptr<CommandStream> current_;
  bool shut_down_ = false;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_COMMAND_CHANNEL_H_
