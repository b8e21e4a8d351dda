#include "nbctl/client_commands.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

namespace nb::nbctl {
namespace {

namespace authpb = northbound::auth::v1;
using google::protobuf::util::TimeUtil;

int Fail(std::ostream& err, absl::string_view message) {
  err << "nbctl: " << message << "\n";
  return 1;
}

int Fail(std::ostream& err, const grpc::Status& status) {
  return Fail(err, absl::StrCat(status.error_message(), " (",
                                status.error_code() == grpc::StatusCode::UNAVAILABLE
                                    ? "auth-service unreachable"
                                    : "gRPC code " + std::to_string(status.error_code()),
                                ")"));
}

absl::StatusOr<std::string> Credential(const AdminConnection& admin) {
  if (!admin.admin_token_file.empty()) {
    std::ifstream in(admin.admin_token_file);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", admin.admin_token_file));
    std::stringstream text;
    text << in.rdbuf();
    return std::string(absl::StripAsciiWhitespace(text.str()));
  }
  if (const char* env = std::getenv("NB_ADMIN_TOKEN")) return std::string(env);
  return absl::FailedPreconditionError(
      "no admin credential: set NB_ADMIN_TOKEN or pass --admin-token-file");
}

// One admin session: the stub and the credential every call carries.
class Admin {
 public:
  static std::optional<Admin> Open(const AdminConnection& connection, std::ostream& err) {
    absl::StatusOr<std::string> credential = Credential(connection);
    if (!credential.ok()) {
      Fail(err, credential.status().message());
      return std::nullopt;
    }
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials =
        GrpcChannelCredentials(connection.tls);
    if (!channel_credentials.ok()) {
      Fail(err, channel_credentials.status().message());
      return std::nullopt;
    }
    return Admin(connection.auth, *std::move(credential), *std::move(channel_credentials));
  }

  authpb::ClientAdmin::Stub& stub() { return *stub_; }
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + credential_);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

 private:
  Admin(const std::string& target, std::string credential,
        std::shared_ptr<grpc::ChannelCredentials> channel_credentials)
      : credential_(std::move(credential)),
        stub_(authpb::ClientAdmin::NewStub(grpc::CreateChannel(target, channel_credentials))) {}

  std::string credential_;
  std::unique_ptr<authpb::ClientAdmin::Stub> stub_;
};

authpb::Operation OperationOf(const std::string& name) {
  if (name == "write") return authpb::WRITE_PROPERTY;
  if (name == "invoke") return authpb::INVOKE_FUNCTION;
  if (name == "events") return authpb::SUBSCRIBE_EVENTS;
  return authpb::READ_PROPERTY;  // the command line admits only these four names
}

authpb::Permissions ToPermissions(const PermissionOptions& options) {
  authpb::Permissions permissions;
  for (const std::string& name : options.operations) permissions.add_operations(OperationOf(name));
  if (options.all_products) {
    permissions.set_all_products(true);
    return permissions;
  }
  for (const std::string& product : options.products) {
    authpb::ProductGrant& grant = *permissions.add_products();
    grant.set_product_key(product);
    for (const std::string& device : options.devices) grant.add_device_keys(device);
  }
  return permissions;
}

google::protobuf::Timestamp ExpiresAt(int64_t seconds_from_now) {
  return TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) + seconds_from_now);
}

std::string Describe(const authpb::Permissions& permissions) {
  std::vector<std::string> operations;
  for (int operation : permissions.operations()) {
    operations.push_back(
        absl::AsciiStrToLower(authpb::Operation_Name(static_cast<authpb::Operation>(operation))));
  }
  std::vector<std::string> scope;
  if (permissions.all_products()) scope.push_back("all products");
  for (const auto& grant : permissions.products()) {
    scope.push_back(
        grant.device_keys().empty()
            ? grant.product_key()
            : absl::StrCat(grant.product_key(), "[", absl::StrJoin(grant.device_keys(), ","), "]"));
  }
  return absl::StrCat(absl::StrJoin(operations, ","), " on ",
                      scope.empty() ? "nothing" : absl::StrJoin(scope, " "));
}

void Print(const authpb::Client& client, std::ostream& out) {
  out << client.id() << "  " << client.name() << "  "
      << absl::AsciiStrToLower(authpb::ClientState_Name(client.state())) << "  "
      << Describe(client.permissions());
  if (client.has_expires_at()) out << "  expires " << TimeUtil::ToString(client.expires_at());
  out << "  token " << client.token_hint() << "…\n";
}

}  // namespace

int CreateClient(const AdminConnection& connection, const CreateOptions& options, std::ostream& out,
                 std::ostream& err) {
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::CreateClientRequest request;
  request.set_name(options.name);
  *request.mutable_permissions() = ToPermissions(options.permissions);
  if (options.expires_in_seconds) {
    *request.mutable_expires_at() = ExpiresAt(*options.expires_in_seconds);
  }
  authpb::CreateClientResponse response;
  const grpc::Status status =
      admin->stub().CreateClient(admin->Context().get(), request, &response);
  if (!status.ok()) return Fail(err, status);
  Print(response.client(), out);
  out << "token: " << response.token() << "\n"
      << "The token is shown this once; only its hash is stored.\n";
  return 0;
}

int ListClients(const AdminConnection& connection, std::ostream& out, std::ostream& err) {
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::ListClientsRequest request;
  request.set_page_size(500);
  do {
    authpb::ListClientsResponse response;
    const grpc::Status status =
        admin->stub().ListClients(admin->Context().get(), request, &response);
    if (!status.ok()) return Fail(err, status);
    for (const authpb::Client& client : response.clients()) Print(client, out);
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int GetClient(const AdminConnection& connection, const std::string& id, std::ostream& out,
              std::ostream& err) {
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::GetClientRequest request;
  request.set_id(id);
  authpb::Client client;
  const grpc::Status status = admin->stub().GetClient(admin->Context().get(), request, &client);
  if (!status.ok()) return Fail(err, status);
  Print(client, out);
  return 0;
}

int UpdateClient(const AdminConnection& connection, const UpdateOptions& options, std::ostream& out,
                 std::ostream& err) {
  authpb::UpdateClientRequest request;
  request.set_id(options.id);
  if (options.name) {
    request.set_name(*options.name);
    request.add_update_mask("name");
  }
  if (options.enabled) {
    request.set_enabled(*options.enabled);
    request.add_update_mask("enabled");
  }
  if (options.permissions) {
    *request.mutable_permissions() = ToPermissions(*options.permissions);
    request.add_update_mask("permissions");
  }
  if (options.expires_in_seconds) {
    *request.mutable_expires_at() = ExpiresAt(*options.expires_in_seconds);
    request.add_update_mask("expires_at");
  }
  if (request.update_mask().empty()) {
    return Fail(err,
                "nothing to change: give --name, --enable/--disable, permissions or "
                "--expires-in");
  }
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::Client client;
  const grpc::Status status = admin->stub().UpdateClient(admin->Context().get(), request, &client);
  if (!status.ok()) return Fail(err, status);
  Print(client, out);
  return 0;
}

int RevokeClient(const AdminConnection& connection, const std::string& id, std::ostream& out,
                 std::ostream& err) {
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::RevokeClientRequest request;
  request.set_id(id);
  authpb::Client client;
  const grpc::Status status = admin->stub().RevokeClient(admin->Context().get(), request, &client);
  if (!status.ok()) return Fail(err, status);
  Print(client, out);
  return 0;
}

int RotateToken(const AdminConnection& connection, const std::string& id, std::ostream& out,
                std::ostream& err) {
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::RotateTokenRequest request;
  request.set_id(id);
  authpb::RotateTokenResponse response;
  const grpc::Status status = admin->stub().RotateToken(admin->Context().get(), request, &response);
  if (!status.ok()) return Fail(err, status);
  Print(response.client(), out);
  out << "token: " << response.token() << "\n"
      << "The old token no longer works. The new one is shown this once.\n";
  return 0;
}

int DeleteClient(const AdminConnection& connection, const std::string& id, std::ostream& out,
                 std::ostream& err) {
  std::optional<Admin> admin = Admin::Open(connection, err);
  if (!admin) return 1;
  authpb::DeleteClientRequest request;
  request.set_id(id);
  authpb::DeleteClientResponse response;
  const grpc::Status status =
      admin->stub().DeleteClient(admin->Context().get(), request, &response);
  if (!status.ok()) return Fail(err, status);
  out << "deleted " << id << "\n";
  return 0;
}

absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text) {
  if (text.size() < 2) return absl::InvalidArgumentError("durations look like 90s, 30m, 12h or 7d");
  int64_t count;
  if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &count) || count <= 0 ||
      count > 100 * 365 * 86400LL) {
    return absl::InvalidArgumentError(absl::StrCat("bad duration '", text, "'"));
  }
  switch (text.back()) {
    case 's':
      return count;
    case 'm':
      return count * 60;
    case 'h':
      return count * 3600;
    case 'd':
      return count * 86400;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("bad duration unit in '", text, "' (s, m, h, d)"));
  }
}

}  // namespace nb::nbctl
