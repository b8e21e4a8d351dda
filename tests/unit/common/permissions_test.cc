#include "common/permissions.h"

#include "gtest/gtest.h"

namespace nb {
namespace {

namespace pb = northbound::auth::v1;

pb::Permissions Dashboard() {
  pb::Permissions permissions;
  permissions.set_all_products(true);
  permissions.add_operations(pb::READ_PROPERTY);
  permissions.add_operations(pb::SUBSCRIBE_EVENTS);
  return permissions;
}

pb::Permissions Scoped() {
  pb::Permissions permissions;
  permissions.add_operations(pb::READ_PROPERTY);
  permissions.add_operations(pb::WRITE_PROPERTY);
  auto* whole = permissions.add_products();
  whole->set_product_key("meter");
  auto* some = permissions.add_products();
  some->set_product_key("sensor");
  some->add_device_keys("d1");
  some->add_device_keys("d2");
  return permissions;
}

TEST(PermissionsTest, ReadOnlyDashboardReadsAndWatchesEverythingButWritesNothing) {
  EXPECT_TRUE(Allows(Dashboard(), pb::READ_PROPERTY, "any", "thing"));
  EXPECT_TRUE(Allows(Dashboard(), pb::SUBSCRIBE_EVENTS, "*", "*"));
  EXPECT_FALSE(Allows(Dashboard(), pb::WRITE_PROPERTY, "any", "thing"));
  EXPECT_FALSE(Allows(Dashboard(), pb::INVOKE_FUNCTION, "any", "thing"));
}

TEST(PermissionsTest, ProductAndDeviceGrants) {
  EXPECT_TRUE(Allows(Scoped(), pb::WRITE_PROPERTY, "meter", "m7"));
  EXPECT_TRUE(Allows(Scoped(), pb::WRITE_PROPERTY, "meter", "*"));
  EXPECT_TRUE(Allows(Scoped(), pb::READ_PROPERTY, "sensor", "d2"));
  EXPECT_FALSE(Allows(Scoped(), pb::READ_PROPERTY, "sensor", "d3"));
  EXPECT_FALSE(Allows(Scoped(), pb::READ_PROPERTY, "sensor", "*"));
  EXPECT_FALSE(Allows(Scoped(), pb::READ_PROPERTY, "other", "d1"));
  EXPECT_FALSE(Allows(Scoped(), pb::READ_PROPERTY, "*", "d1"));
  EXPECT_FALSE(Allows(Scoped(), pb::INVOKE_FUNCTION, "meter", "m7"));
}

TEST(PermissionsTest, NoOperationsMeansNothing) {
  pb::Permissions permissions;
  permissions.set_all_products(true);
  EXPECT_FALSE(Allows(permissions, pb::READ_PROPERTY, "p", "d"));
}

}  // namespace
}  // namespace nb
