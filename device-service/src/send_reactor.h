#ifndef NORTHBOUND_DEVICE_SERVICE_SEND_REACTOR_H_
#define NORTHBOUND_DEVICE_SERVICE_SEND_REACTOR_H_

#include "absl/status/status.h"
#include "device-service/src/authorizer.h"
#include "device-service/src/command_dispatcher.h"
#include "grpcpp/grpcpp.h"
#include "northbound/device/v1/device_service.grpc.pb.h"

namespace nb::device {

// What a server-streaming reactor should do next, decided under its stream's lock and
// done outside it (Send here, Subscribe in device_service_impl.cc). kWriteAndFinish
// sends the last message and the status in one operation.
enum class WriteStep { kNothing, kWrite, kWriteAndFinish, kFinish };

// Serves one DeviceService.Send: once `authorizer` vouches for the caller and its
// permissions cover the request, starts the command on `dispatcher` and streams one reply
// per device as each answers. A request refused (by the authorizer or the dispatcher) ends
// the call with its status and northbound-error-code; a caller revoked meanwhile ends it
// with UNAUTHENTICATED. The reactor deletes itself when gRPC is done with it.
grpc::ServerWriteReactor<northbound::device::v1::SendReply>* StartSend(
    grpc::CallbackServerContext* context, const northbound::device::v1::SendRequest& request,
    CommandDispatcher& dispatcher, Authorizer& authorizer);

// OK, or PERMISSION_DENIED naming the first device (or the whole product, for all_devices)
// the permissions do not allow this kind of command on.
absl::Status CheckSendAllowed(const northbound::auth::v1::Permissions& permissions,
                              const northbound::device::v1::SendRequest& request);

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_SEND_REACTOR_H_
