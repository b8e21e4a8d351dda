#include "common/permissions.h"

#include "gtest/gtest.h"

namespace nb {
namespace {

namespace authpb = northbound::auth::v1;

authpb::Permissions Dashboard() {
  authpb::Permissions permissions;
  permissions.set_all_products(true);
  permissions.add_operations(authpb::READ_PROPERTY);
  permissions.add_operations(authpb::SUBSCRIBE_EVENTS);
  return permissions;
}

authpb::Permissions Scoped() {
  authpb::Permissions permissions;
  permissions.add_operations(authpb::READ_PROPERTY);
  permissions.add_operations(authpb::WRITE_PROPERTY);
  auto* whole = permissions.add_products();
  whole->set_product_key("meter");
  auto* some = permissions.add_products();
  some->set_product_key("sensor");
  some->add_device_keys("d1");
  some->add_device_keys("d2");
  return permissions;
}

TEST(PermissionsTest, ReadOnlyDashboardReadsAndWatchesEverythingButWritesNothing) {
  EXPECT_TRUE(Allows(Dashboard(), authpb::READ_PROPERTY, "any", "thing"));
  EXPECT_TRUE(Allows(Dashboard(), authpb::SUBSCRIBE_EVENTS, "*", "*"));
  EXPECT_FALSE(Allows(Dashboard(), authpb::WRITE_PROPERTY, "any", "thing"));
  EXPECT_FALSE(Allows(Dashboard(), authpb::INVOKE_FUNCTION, "any", "thing"));
}

TEST(PermissionsTest, ProductAndDeviceGrants) {
  EXPECT_TRUE(Allows(Scoped(), authpb::WRITE_PROPERTY, "meter", "m7"));
  EXPECT_TRUE(Allows(Scoped(), authpb::WRITE_PROPERTY, "meter", "*"));
  EXPECT_TRUE(Allows(Scoped(), authpb::READ_PROPERTY, "sensor", "d2"));
  EXPECT_FALSE(Allows(Scoped(), authpb::READ_PROPERTY, "sensor", "d3"));
  EXPECT_FALSE(Allows(Scoped(), authpb::READ_PROPERTY, "sensor", "*"));
  EXPECT_FALSE(Allows(Scoped(), authpb::READ_PROPERTY, "other", "d1"));
  EXPECT_FALSE(Allows(Scoped(), authpb::READ_PROPERTY, "*", "d1"));
  EXPECT_FALSE(Allows(Scoped(), authpb::INVOKE_FUNCTION, "meter", "m7"));
}

TEST(PermissionsTest, NoOperationsMeansNothing) {
  authpb::Permissions permissions;
  permissions.set_all_products(true);
  EXPECT_FALSE(Allows(permissions, authpb::READ_PROPERTY, "p", "d"));
}

TEST(PermissionsTest, CoversIsWhatListingsShow) {
  EXPECT_TRUE(Covers(Dashboard(), "any", "thing"));
  EXPECT_TRUE(Covers(Scoped(), "meter", "m7"));
  EXPECT_TRUE(Covers(Scoped(), "sensor", "d2"));
  EXPECT_TRUE(Covers(Scoped(), "sensor", ""));
  EXPECT_FALSE(Covers(Scoped(), "sensor", "d3"));
  EXPECT_FALSE(Covers(Scoped(), "other", ""));
  EXPECT_FALSE(Covers(authpb::Permissions(), "meter", ""));
}

}  // namespace
}  // namespace nb
