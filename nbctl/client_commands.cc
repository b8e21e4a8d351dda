#include "nbctl/client_commands.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

namespace nb::nbctl {
namespace {

namespace pb = northbound::auth::v1;
using google::protobuf::util::TimeUtil;

constexpr char kUsage[] = R"(usage: nbctl [--auth HOST:PORT] client COMMAND ...

  client create --name NAME (--all-products | --products P1,P2) [--devices D1,D2]
                [--operations read,write,invoke,events] [--expires-in 30d]
  client list
  client get ID
  client update ID [--name NAME] [--enable | --disable] [--operations ...]
                   [--all-products | --products ...] [--devices ...] [--expires-in 30d]
  client revoke ID
  client rotate ID
  client delete ID

--operations defaults to read,events (a read-only dashboard). --devices limits the
listed products to those devices. The admin credential comes from --admin-token-file FILE
or the NB_ADMIN_TOKEN environment variable; --auth defaults to localhost:50052.
)";

absl::StatusOr<std::string> Credential(const Arguments& arguments) {
  if (std::optional<std::string> path = arguments.Get("admin-token-file")) {
    std::ifstream in(*path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", *path));
    std::stringstream text;
    text << in.rdbuf();
    return std::string(absl::StripAsciiWhitespace(text.str()));
  }
  if (const char* env = std::getenv("NB_ADMIN_TOKEN")) return std::string(env);
  return absl::FailedPreconditionError(
      "no admin credential: set NB_ADMIN_TOKEN or pass --admin-token-file");
}

absl::StatusOr<pb::Operation> ParseOperation(absl::string_view name) {
  if (name == "read") return pb::READ_PROPERTY;
  if (name == "write") return pb::WRITE_PROPERTY;
  if (name == "invoke") return pb::INVOKE_FUNCTION;
  if (name == "events") return pb::SUBSCRIBE_EVENTS;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown operation '", name, "' (use read, write, invoke, events)"));
}

// Builds permissions from --all-products/--products/--devices/--operations.
absl::StatusOr<pb::Permissions> ParsePermissions(const Arguments& arguments) {
  pb::Permissions permissions;
  const std::string operations = arguments.Get("operations").value_or("read,events");
  for (absl::string_view name : absl::StrSplit(operations, ',', absl::SkipEmpty())) {
    absl::StatusOr<pb::Operation> operation = ParseOperation(name);
    if (!operation.ok()) return operation.status();
    permissions.add_operations(*operation);
  }
  if (arguments.Has("all-products")) {
    permissions.set_all_products(true);
    return permissions;
  }
  const std::optional<std::string> products = arguments.Get("products");
  if (!products)
    return absl::InvalidArgumentError("name the products: --products P1,P2 or --all-products");
  const std::vector<std::string> devices =
      absl::StrSplit(arguments.Get("devices").value_or(""), ',', absl::SkipEmpty());
  for (absl::string_view product : absl::StrSplit(*products, ',', absl::SkipEmpty())) {
    pb::ProductGrant& grant = *permissions.add_products();
    grant.set_product_key(std::string(product));
    for (const std::string& device : devices) grant.add_device_keys(device);
  }
  return permissions;
}

std::string Describe(const pb::Permissions& permissions) {
  std::vector<std::string> operations;
  for (int operation : permissions.operations()) {
    operations.push_back(
        absl::AsciiStrToLower(pb::Operation_Name(static_cast<pb::Operation>(operation))));
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

void Print(const pb::Client& client, std::ostream& out) {
  out << client.id() << "  " << client.name() << "  "
      << absl::AsciiStrToLower(pb::ClientState_Name(client.state())) << "  "
      << Describe(client.permissions());
  if (client.has_expires_at()) out << "  expires " << TimeUtil::ToString(client.expires_at());
  out << "  token " << client.token_hint() << "…\n";
}

int Fail(std::ostream& err, const std::string& message) {
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

}  // namespace

int RunClientCommand(const Arguments& arguments, std::ostream& out, std::ostream& err) {
  if (arguments.words.size() < 2 || arguments.words[0] != "client") {
    err << kUsage;
    return 2;
  }
  const std::string& command = arguments.words[1];
  const std::string id = arguments.words.size() > 2 ? arguments.words[2] : "";
  absl::StatusOr<std::string> credential = Credential(arguments);
  if (!credential.ok()) return Fail(err, std::string(credential.status().message()));

  auto channel = grpc::CreateChannel(arguments.Get("auth").value_or("localhost:50052"),
                                     grpc::InsecureChannelCredentials());
  auto stub = pb::ClientAdmin::NewStub(channel);
  auto context = [&] {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + *credential);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  };
  auto expiry = [&](google::protobuf::Timestamp& out_time) -> absl::Status {
    absl::StatusOr<int64_t> seconds = ParseDurationSeconds(*arguments.Get("expires-in"));
    if (!seconds.ok()) return seconds.status();
    out_time = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) + *seconds);
    return absl::OkStatus();
  };
  if ((command == "get" || command == "revoke" || command == "rotate" || command == "delete" ||
       command == "update") &&
      id.empty()) {
    return Fail(err, absl::StrCat("client ", command, " needs a client id"));
  }

  if (command == "create") {
    pb::CreateClientRequest request;
    request.set_name(arguments.Get("name").value_or(""));
    absl::StatusOr<pb::Permissions> permissions = ParsePermissions(arguments);
    if (!permissions.ok()) return Fail(err, std::string(permissions.status().message()));
    *request.mutable_permissions() = *permissions;
    if (arguments.Has("expires-in")) {
      if (absl::Status s = expiry(*request.mutable_expires_at()); !s.ok())
        return Fail(err, std::string(s.message()));
    }
    pb::CreateClientResponse response;
    const grpc::Status status = stub->CreateClient(context().get(), request, &response);
    if (!status.ok()) return Fail(err, status);
    Print(response.client(), out);
    out << "token: " << response.token() << "\n"
        << "The token is shown this once; only its hash is stored.\n";
    return 0;
  }
  if (command == "list") {
    pb::ListClientsRequest request;
    request.set_page_size(500);
    do {
      pb::ListClientsResponse response;
      const grpc::Status status = stub->ListClients(context().get(), request, &response);
      if (!status.ok()) return Fail(err, status);
      for (const pb::Client& client : response.clients()) Print(client, out);
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return 0;
  }
  if (command == "get" || command == "revoke") {
    pb::Client client;
    grpc::Status status;
    if (command == "get") {
      pb::GetClientRequest request;
      request.set_id(id);
      status = stub->GetClient(context().get(), request, &client);
    } else {
      pb::RevokeClientRequest request;
      request.set_id(id);
      status = stub->RevokeClient(context().get(), request, &client);
    }
    if (!status.ok()) return Fail(err, status);
    Print(client, out);
    return 0;
  }
  if (command == "rotate") {
    pb::RotateTokenRequest request;
    request.set_id(id);
    pb::RotateTokenResponse response;
    const grpc::Status status = stub->RotateToken(context().get(), request, &response);
    if (!status.ok()) return Fail(err, status);
    Print(response.client(), out);
    out << "token: " << response.token() << "\n"
        << "The old token no longer works. The new one is shown this once.\n";
    return 0;
  }
  if (command == "delete") {
    pb::DeleteClientRequest request;
    request.set_id(id);
    pb::DeleteClientResponse response;
    const grpc::Status status = stub->DeleteClient(context().get(), request, &response);
    if (!status.ok()) return Fail(err, status);
    out << "deleted " << id << "\n";
    return 0;
  }
  if (command == "update") {
    pb::UpdateClientRequest request;
    request.set_id(id);
    if (std::optional<std::string> name = arguments.Get("name")) {
      request.set_name(*name);
      request.add_update_mask("name");
    }
    if (arguments.Has("enable") || arguments.Has("disable")) {
      request.set_enabled(arguments.Has("enable"));
      request.add_update_mask("enabled");
    }
    if (arguments.Has("operations") || arguments.Has("products") || arguments.Has("all-products")) {
      absl::StatusOr<pb::Permissions> permissions = ParsePermissions(arguments);
      if (!permissions.ok()) return Fail(err, std::string(permissions.status().message()));
      *request.mutable_permissions() = *permissions;
      request.add_update_mask("permissions");
    }
    if (arguments.Has("expires-in")) {
      if (absl::Status s = expiry(*request.mutable_expires_at()); !s.ok())
        return Fail(err, std::string(s.message()));
      request.add_update_mask("expires_at");
    }
    pb::Client client;
    const grpc::Status status = stub->UpdateClient(context().get(), request, &client);
    if (!status.ok()) return Fail(err, status);
    Print(client, out);
    return 0;
  }
  err << kUsage;
  return 2;
}

}  // namespace nb::nbctl
