// libFuzzer target: a client's text frame through the frame codec and the sub planner,
// as ws-frontend handles every frame it receives (docs/protocol.md §2, §4, §5).
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "common/permissions.h"
#include "ws-frontend/src/frame_codec.h"
#include "ws-frontend/src/sub_planner.h"

namespace {

namespace authpb = northbound::auth::v1;
using nb::frontend::FrameError;

authpb::Permissions OneDevice() {
  authpb::Permissions permissions;
  auto* grant = permissions.add_products();
  grant->set_product_key("sagoo-product");
  grant->add_device_keys("device1");
  permissions.add_operations(authpb::READ_PROPERTY);
  return permissions;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const authpb::Permissions everything = nb::AllPermissions();
  static const authpb::Permissions one_device = OneDevice();
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = nb::frontend::ParseClientFrame(text);
  if (auto* error = std::get_if<FrameError>(&parsed)) {
    // The answer a client gets must itself be a well-formed frame.
    const std::string frame =
        nb::frontend::ErrorFrame(error->id, error->topic, error->code, error->message);
    if (frame.empty()) std::abort();
    return 0;
  }
  const auto& frame = std::get<nb::frontend::ClientFrame>(parsed);
  if (const auto* sub = std::get_if<nb::frontend::SubFrame>(&frame)) {
    if (sub->id.size() > nb::frontend::kMaxIdBytes) std::abort();
    auto plan = nb::frontend::PlanSub(*sub, everything);
    auto narrow = nb::frontend::PlanSub(*sub, one_device);
    // Fewer permissions never allow more.
    if (narrow.ok() && !plan.ok()) std::abort();
  }
  return 0;
}
