#include "common/status.h"

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace nb {
namespace {

constexpr char kErrorCodePayloadUrl[] = "type.northbound.dev/northbound.common.v1.ErrorCode";

std::optional<ErrorCode> ParseErrorCode(absl::string_view name) {
  ErrorCode code;
  if (northbound::common::v1::ErrorCode_Parse(std::string(name), &code)) return code;
  return std::nullopt;
}

}  // namespace

absl::string_view ErrorCodeName(ErrorCode code) {
  return northbound::common::v1::ErrorCode_Name(code);
}

absl::StatusCode StatusCodeFor(ErrorCode code) {
  using northbound::common::v1::ErrorCode;
  switch (code) {
    case ErrorCode::ERROR_CODE_UNSPECIFIED:
      return absl::StatusCode::kOk;
    case ErrorCode::PRODUCT_NOT_FOUND:
    case ErrorCode::DEVICE_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case ErrorCode::CLIENT_OFFLINE:
    case ErrorCode::SERVER_NOT_AVAILABLE:
    case ErrorCode::NO_REPLY:
      return absl::StatusCode::kUnavailable;
    case ErrorCode::TIME_OUT:
      return absl::StatusCode::kDeadlineExceeded;
    case ErrorCode::PERMISSION_DENIED:
      return absl::StatusCode::kPermissionDenied;
    case ErrorCode::TOO_MANY_SUBSCRIPTIONS:
    case ErrorCode::RATE_LIMITED:
    case ErrorCode::DEVICE_BUSY:
      return absl::StatusCode::kResourceExhausted;
    case ErrorCode::DUPLICATE_ID:
      return absl::StatusCode::kAlreadyExists;
    case ErrorCode::UNSUPPORTED_MESSAGE:
      return absl::StatusCode::kUnimplemented;
    case ErrorCode::SYSTEM_ERROR:
      return absl::StatusCode::kInternal;
    case ErrorCode::DEVICE_ERROR:
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

absl::Status ErrorStatus(ErrorCode code, absl::string_view message) {
  absl::Status status(StatusCodeFor(code), message);
  if (!status.ok()) status.SetPayload(kErrorCodePayloadUrl, absl::Cord(ErrorCodeName(code)));
  return status;
}

bool HasErrorCode(const absl::Status& status) {
  return status.GetPayload(kErrorCodePayloadUrl).has_value();
}

std::string Quoted(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", Utf8Prefix(text, max_bytes), "...' (", text.size(), " bytes)");
}

ErrorCode ErrorCodeOf(const absl::Status& status) {
  using northbound::common::v1::ErrorCode;
  if (status.ok()) return ErrorCode::ERROR_CODE_UNSPECIFIED;
  if (absl::optional<absl::Cord> payload = status.GetPayload(kErrorCodePayloadUrl)) {
    if (std::optional<ErrorCode> code = ParseErrorCode(std::string(*payload))) return *code;
  }
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return ErrorCode::SERVER_NOT_AVAILABLE;
    case absl::StatusCode::kDeadlineExceeded:
      return ErrorCode::TIME_OUT;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return ErrorCode::PARAMETER_ERROR;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return ErrorCode::PERMISSION_DENIED;
    // A RESOURCE_EXHAUSTED without a code is gRPC's own (a message or metadata over its
    // limit), never a client's rate: nothing the client can retry later.
    case absl::StatusCode::kUnimplemented:
      return ErrorCode::UNSUPPORTED_MESSAGE;
    default:
      return ErrorCode::SYSTEM_ERROR;
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase& context) {
  if (absl::optional<absl::Cord> payload = status.GetPayload(kErrorCodePayloadUrl)) {
    context.AddTrailingMetadata(kErrorCodeMetadataKey, std::string(*payload));
  }
  return ToGrpcStatus(status);
}

absl::Status ToAbslStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  absl::Status result = ToAbslStatus(status);
  if (result.ok()) return result;
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kErrorCodeMetadataKey);
  if (it != trailers.end()) {
    if (ParseErrorCode(absl::string_view(it->second.data(), it->second.size()))) {
      result.SetPayload(kErrorCodePayloadUrl,
                        absl::Cord(absl::string_view(it->second.data(), it->second.size())));
    }
  }
  return result;
}

}  // namespace nb
