#include "common/permissions.h"

#include <algorithm>

namespace nb {

bool HasOperation(const northbound::auth::v1::Permissions& permissions,
                  northbound::auth::v1::Operation operation) {
  const auto& operations = permissions.operations();
  return std::find(operations.begin(), operations.end(), operation) != operations.end();
}

bool Allows(const northbound::auth::v1::Permissions& permissions,
            northbound::auth::v1::Operation operation, absl::string_view product_key,
            absl::string_view device_key) {
  if (!HasOperation(permissions, operation)) return false;
  if (permissions.all_products()) return true;
  if (product_key == "*") return false;
  for (const auto& grant : permissions.products()) {
    if (grant.product_key() != product_key) continue;
    if (grant.device_keys().empty()) return true;
    if (device_key == "*") return false;
    for (const std::string& key : grant.device_keys()) {
      if (key == device_key) return true;
    }
  }
  return false;
}

northbound::auth::v1::Permissions AllPermissions() {
  namespace authpb = northbound::auth::v1;
  authpb::Permissions permissions;
  permissions.set_all_products(true);
  for (auto operation : {authpb::READ_PROPERTY, authpb::WRITE_PROPERTY, authpb::INVOKE_FUNCTION,
                         authpb::SUBSCRIBE_EVENTS}) {
    permissions.add_operations(operation);
  }
  return permissions;
}

bool Covers(const northbound::auth::v1::Permissions& permissions, absl::string_view product_key,
            absl::string_view device_key) {
  if (permissions.all_products()) return true;
  for (const auto& grant : permissions.products()) {
    if (grant.product_key() != product_key) continue;
    if (grant.device_keys().empty() || device_key.empty()) return true;
    for (const std::string& key : grant.device_keys()) {
      if (key == device_key) return true;
    }
  }
  return false;
}

}  // namespace nb
