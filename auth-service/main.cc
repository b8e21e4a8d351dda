// auth-service: northbound clients, their tokens and permissions.
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "auth-service/src/auth_runtime.h"
#include "common/log.h"
#include "common/service_runtime.h"

ABSL_FLAG(int, grpc_port, 50052, "gRPC port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9102, "Prometheus /metrics port (0 picks a free one).");
ABSL_FLAG(std::string, database, "var/auth.db", "SQLite database of the clients.");
ABSL_FLAG(std::string, admin_token, "",
          "Credential for ClientAdmin. Prefer NB_ADMIN_TOKEN or --admin_token_file: "
          "command lines are visible to other users.");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the ClientAdmin credential (for example a mounted Kubernetes Secret).");

namespace {

absl::StatusOr<std::string> AdminCredential() {
  std::string credential = absl::GetFlag(FLAGS_admin_token);
  const std::string path = absl::GetFlag(FLAGS_admin_token_file);
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError("cannot read --admin_token_file " + path);
    std::stringstream text;
    text << in.rdbuf();
    credential = std::string(absl::StripAsciiWhitespace(text.str()));
  }
  if (!credential.empty() && credential.size() < 16) {
    return absl::InvalidArgumentError("the admin credential must be at least 16 characters");
  }
  return credential;
}

}  // namespace

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "auth-service",
                                          "auth-service [flags]; see docs/auth.md");
  if (absl::Status s = nb::ValidatePort("grpc_port", absl::GetFlag(FLAGS_grpc_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  absl::StatusOr<std::string> credential = AdminCredential();
  if (!credential.ok()) return runtime->Fail(credential.status());
  if (credential->empty()) {
    nb::log::Warn("no admin credential configured: every ClientAdmin call is refused");
  }
  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  nb::auth::AuthRuntimeOptions options;
  options.database_path = absl::GetFlag(FLAGS_database);
  options.admin_credential = *credential;
  auto auth = nb::auth::AuthRuntime::Create(options, runtime->metrics().registry());
  if (!auth.ok()) return runtime->Fail(auth.status());

  nb::GrpcServerOptions grpc_options;
  grpc_options.port = absl::GetFlag(FLAGS_grpc_port);
  if (absl::Status s =
          runtime->StartGrpc(grpc_options, {&(*auth)->auth_service(), &(*auth)->admin_service()});
      !s.ok()) {
    return runtime->Fail(s);
  }
  return runtime->Run(absl::Seconds(5), [&] { (*auth)->EndStreams(); });
}
