#ifndef NORTHBOUND_DEVICE_SERVICE_SEND_REACTOR_H_
#define NORTHBOUND_DEVICE_SERVICE_SEND_REACTOR_H_

#include "device-service/src/command_dispatcher.h"
#include "grpcpp/grpcpp.h"
#include "northbound/device/v1/device_service.grpc.pb.h"

namespace nb::device {

// What a server-streaming reactor should do next, decided under its stream's lock and
// done outside it (Send here, Subscribe in device_service_impl.cc).
enum class WriteStep { kNothing, kWrite, kFinish };

// Serves one DeviceService.Send: starts the command on `dispatcher` and streams one reply
// per device as each answers; a request the dispatcher refuses ends the call with its
// status and northbound-error-code. The reactor deletes itself when gRPC is done with it.
grpc::ServerWriteReactor<northbound::device::v1::SendReply>* StartSend(
    grpc::CallbackServerContext* context, const northbound::device::v1::SendRequest& request,
    CommandDispatcher& dispatcher);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_SEND_REACTOR_H_
