#ifndef NORTHBOUND_NBCTL_CLIENT_COMMANDS_H_
#define NORTHBOUND_NBCTL_CLIENT_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace nb::nbctl {

// Where auth-service's ClientAdmin is and how to prove the caller is its admin.
struct AdminConnection {
  std::string auth = "localhost:50052";
  // Empty: the credential comes from NB_ADMIN_TOKEN.
  std::string admin_token_file;
  // TLS towards auth-service when tls.ca_file is set (--tls-ca, --tls-cert, --tls-key).
  TlsClientFiles tls;
};

// --operations/--all-products/--products/--devices of create and update.
struct PermissionOptions {
  std::vector<std::string> operations = {"read", "events"};
  bool all_products = false;
  std::vector<std::string> products;
  std::vector<std::string> devices;
};

struct CreateOptions {
  std::string name;
  PermissionOptions permissions;
  std::optional<int64_t> expires_in_seconds;
};

// Only what is set is changed.
struct UpdateOptions {
  std::string id;
  std::optional<std::string> name;
  std::optional<bool> enabled;
  std::optional<PermissionOptions> permissions;
  std::optional<int64_t> expires_in_seconds;
};

// `nbctl client ...`: one function per subcommand, each talking to auth-service's
// ClientAdmin. They return the exit status (0 done, 1 refused or unreachable); output goes
// to `out`, errors to `err`.
int CreateClient(const AdminConnection& admin, const CreateOptions& options, std::ostream& out,
                 std::ostream& err);
int ListClients(const AdminConnection& admin, std::ostream& out, std::ostream& err);
int GetClient(const AdminConnection& admin, const std::string& id, std::ostream& out,
              std::ostream& err);
int UpdateClient(const AdminConnection& admin, const UpdateOptions& options, std::ostream& out,
                 std::ostream& err);
int RevokeClient(const AdminConnection& admin, const std::string& id, std::ostream& out,
                 std::ostream& err);
int RotateToken(const AdminConnection& admin, const std::string& id, std::ostream& out,
                std::ostream& err);
int DeleteClient(const AdminConnection& admin, const std::string& id, std::ostream& out,
                 std::ostream& err);

// "1h", "30m", "7d", "90s" -> seconds.
absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text);

}  // namespace nb::nbctl

#endif  // NORTHBOUND_NBCTL_CLIENT_COMMANDS_H_
