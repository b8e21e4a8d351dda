#ifndef NORTHBOUND_COMMON_STATUS_H_
#define NORTHBOUND_COMMON_STATUS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "northbound/common/v1/error_code.pb.h"

// The one conversion between absl::Status and grpc::Status, and the one place that ties a
// protocol error code (docs/protocol.md §6) to a status.
namespace nb {

using ErrorCode = northbound::common::v1::ErrorCode;

// Trailing metadata entry that carries an ErrorCode name on a failed gRPC call.
inline constexpr char kErrorCodeMetadataKey[] = "northbound-error-code";

// A status carrying a protocol error code; its absl code follows the code's meaning.
absl::Status ErrorStatus(ErrorCode code, absl::string_view message);

// The protocol error code attached to a status, or a best guess from its absl code
// (UNAVAILABLE -> SERVER_NOT_AVAILABLE, ...). OK gives ERROR_CODE_UNSPECIFIED.
ErrorCode ErrorCodeOf(const absl::Status& status);

// True when `status` carries a protocol error code (set by ErrorStatus or restored from a
// call's trailers), false for a code only guessed from its absl code.
bool HasErrorCode(const absl::Status& status);

// `text` quoted for an error message, cut to at most `max_bytes` (on a UTF-8 character
// boundary) with "..." after it: names echoed from requests must not make a message, and
// so gRPC trailers, grow with the request.
std::string Quoted(absl::string_view text, size_t max_bytes = 64);

// The gRPC status code that matches a protocol error code.
absl::StatusCode StatusCodeFor(ErrorCode code);

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status ToAbslStatus(const grpc::Status& status);

// Server side: converts `status` and, when it carries an error code, adds the trailing
// metadata entry. Call from a reaction right before Finish.
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase& context);

// Client side: converts a finished call's status and restores its error code from the
// trailing metadata.
absl::Status ToAbslStatus(const grpc::Status& status, const grpc::ClientContext& context);

// "PARAMETER_ERROR" for PARAMETER_ERROR and so on.
absl::string_view ErrorCodeName(ErrorCode code);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_STATUS_H_
