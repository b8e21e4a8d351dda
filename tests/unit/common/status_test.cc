#include "common/status.h"

#include "gtest/gtest.h"

namespace nb {
namespace {

using northbound::common::v1::ErrorCode;

TEST(StatusTest, ErrorStatusCarriesCodeAndMatchingCanonicalCode) {
  const absl::Status status = ErrorStatus(ErrorCode::PRODUCT_NOT_FOUND, "no product x");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorCodeOf(status), ErrorCode::PRODUCT_NOT_FOUND);
  EXPECT_EQ(status.message(), "no product x");
}

TEST(StatusTest, EveryErrorCodeSurvivesTheRoundTrip) {
  for (int value = northbound::common::v1::ErrorCode_MIN + 1;
       value <= northbound::common::v1::ErrorCode_MAX; ++value) {
    const auto code = static_cast<ErrorCode>(value);
    EXPECT_EQ(ErrorCodeOf(ErrorStatus(code, "m")), code) << ErrorCodeName(code);
  }
}

TEST(StatusTest, CodeIsGuessedFromCanonicalCodeWhenAbsent) {
  EXPECT_EQ(ErrorCodeOf(absl::UnavailableError("x")), ErrorCode::SERVER_NOT_AVAILABLE);
  EXPECT_EQ(ErrorCodeOf(absl::InvalidArgumentError("x")), ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorCodeOf(absl::InternalError("x")), ErrorCode::SYSTEM_ERROR);
  EXPECT_EQ(ErrorCodeOf(absl::OkStatus()), ErrorCode::ERROR_CODE_UNSPECIFIED);
}

TEST(StatusTest, GrpcConversionKeepsCodeAndMessage) {
  const grpc::Status grpc_status = ToGrpcStatus(absl::PermissionDeniedError("nope"));
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(grpc_status.error_message(), "nope");
  const absl::Status back = ToAbslStatus(grpc_status);
  EXPECT_EQ(back.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(back.message(), "nope");
}

}  // namespace
}  // namespace nb
