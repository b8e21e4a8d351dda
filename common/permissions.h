#ifndef NORTHBOUND_COMMON_PERMISSIONS_H_
#define NORTHBOUND_COMMON_PERMISSIONS_H_

#include "absl/strings/string_view.h"
#include "northbound/auth/v1/auth.pb.h"

namespace nb {

// Whether the permissions grant `operation` at all (on some product).
bool HasOperation(const northbound::auth::v1::Permissions& permissions,
                  northbound::auth::v1::Operation operation);

// Whether a client's permissions allow `operation` on `device_key` of `product_key`.
// A "*" product or device stands for all of them and is allowed only when the permissions
// cover all of them (all_products, or a product grant without a device list).
bool Allows(const northbound::auth::v1::Permissions& permissions,
            northbound::auth::v1::Operation operation, absl::string_view product_key,
            absl::string_view device_key);

// Every product and every operation: what a development build without authentication
// grants, and a test's all-powerful client.
northbound::auth::v1::Permissions AllPermissions();

// Whether the permissions reach `device_key` of `product_key` at all, whatever the
// operation: what listings show. An empty `device_key` asks about the product.
bool Covers(const northbound::auth::v1::Permissions& permissions, absl::string_view product_key,
            absl::string_view device_key);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_PERMISSIONS_H_
