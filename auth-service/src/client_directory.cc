#include "auth-service/src/client_directory.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "auth-service/src/token.h"
#include "common/time.h"
#include "google/protobuf/util/time_util.h"

namespace nb::auth {
namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t kMaxNameBytes = 128;
constexpr int kMaxGrants = 1000;
constexpr int kMaxDevicesPerGrant = 10000;
constexpr uint32_t kMaxPageSize = 500;

google::protobuf::Timestamp Timestamp(int64_t ms) { return TimeUtil::MillisecondsToTimestamp(ms); }

authpb::Client ToProto(const ClientRecord& record) {
  authpb::Client client;
  client.set_id(record.id);
  client.set_name(record.name);
  client.set_enabled(record.enabled);
  client.set_state(StateOf(record, NowMs()));
  *client.mutable_permissions() = record.permissions;
  *client.mutable_created_at() = Timestamp(record.created_ms);
  *client.mutable_updated_at() = Timestamp(record.updated_ms);
  if (record.expires_ms > 0) *client.mutable_expires_at() = Timestamp(record.expires_ms);
  client.set_token_hint(record.token_hint);
  return client;
}

absl::StatusOr<int64_t> CheckExpiry(const google::protobuf::Timestamp& expires_at, bool present) {
  if (!present) return 0;
  const int64_t ms = TimeUtil::TimestampToMilliseconds(expires_at);
  if (ms <= NowMs()) return absl::InvalidArgumentError("expires_at must be in the future");
  return ms;
}

}  // namespace

authpb::ClientState StateOf(const ClientRecord& record, int64_t now_ms) {
  if (record.revoked) return authpb::REVOKED;
  if (!record.enabled) return authpb::DISABLED;
  if (record.expires_ms > 0 && record.expires_ms <= now_ms) return authpb::EXPIRED;
  return authpb::ACTIVE;
}

absl::Status CheckName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("name must not be empty");
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name must be at most ", kMaxNameBytes, " bytes"));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f)
      return absl::InvalidArgumentError("name must not contain control characters");
  }
  return absl::OkStatus();
}

absl::Status CheckPermissions(const authpb::Permissions& permissions) {
  for (int operation : permissions.operations()) {
    if (operation <= authpb::OPERATION_UNSPECIFIED || operation > authpb::Operation_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown operation ", operation,
          " (use READ_PROPERTY, WRITE_PROPERTY, INVOKE_FUNCTION or SUBSCRIBE_EVENTS)"));
    }
  }
  if (permissions.products_size() > kMaxGrants) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxGrants, " product grants"));
  }
  for (const authpb::ProductGrant& grant : permissions.products()) {
    if (grant.product_key().empty() || grant.product_key().size() > 64) {
      return absl::InvalidArgumentError("a product grant needs a product key of 1..64 bytes");
    }
    if (grant.device_keys_size() > kMaxDevicesPerGrant) {
      return absl::InvalidArgumentError(
          absl::StrCat("at most ", kMaxDevicesPerGrant, " devices per product grant"));
    }
    for (const std::string& device : grant.device_keys()) {
      if (device.empty() || device.size() > 64) {
        return absl::InvalidArgumentError("device keys must be 1..64 bytes");
      }
    }
  }
  return absl::OkStatus();
}

ClientDirectory::ClientDirectory(std::unique_ptr<ClientStore> store, RevocationFeed& feed,
                                 AuthMetrics& metrics)
    : store_(std::move(store)), feed_(feed), metrics_(metrics) {
  MutexLock lock(mu_);
  const int64_t now = NowMs();
  for (ClientRecord& record : store_->LoadAll()) {
    if (StateOf(record, now) == authpb::EXPIRED) expired_announced_.insert(record.id);
    by_hash_[record.token_hash] = std::make_shared<const ClientRecord>(record);
    by_id_[record.id] = std::move(record);
  }
  UpdateStateGauges();
}

authpb::ValidateTokenResponse ClientDirectory::Validate(absl::string_view token) const {
  const auto started = std::chrono::steady_clock::now();
  authpb::ValidateTokenResponse response;
  if (!IsWellFormedToken(token)) {
    response.set_status(authpb::MALFORMED);
  } else {
    std::shared_ptr<const ClientRecord> record;
    {
      MutexLock lock(mu_);
      auto it = by_hash_.find(HashToken(token));
      if (it != by_hash_.end()) record = it->second;
    }
    if (record == nullptr) {
      response.set_status(authpb::UNKNOWN);
    } else {
      switch (StateOf(*record, NowMs())) {
        case authpb::REVOKED:
          response.set_status(authpb::TOKEN_REVOKED);
          break;
        case authpb::DISABLED:
          response.set_status(authpb::TOKEN_DISABLED);
          break;
        case authpb::EXPIRED:
          response.set_status(authpb::TOKEN_EXPIRED);
          break;
        default: {
          response.set_status(authpb::VALID);
          authpb::Principal& principal = *response.mutable_principal();
          principal.set_client_id(record->id);
          principal.set_name(record->name);
          *principal.mutable_permissions() = record->permissions;
          if (record->expires_ms > 0)
            *principal.mutable_expires_at() = Timestamp(record->expires_ms);
        }
      }
    }
  }
  metrics_.CountValidation(
      response.status(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

absl::Status ClientDirectory::Save(ClientRecord& record, bool insert) {
  absl::Status status = insert ? store_->Insert(record) : store_->Update(record);
  if (!status.ok()) return status;
  // Only once the change is on disk does it take effect.
  {
    MutexLock lock(mu_);
    auto old = by_id_.find(record.id);
    if (old != by_id_.end() && old->second.token_hash != record.token_hash) {
      by_hash_.erase(old->second.token_hash);
    }
    by_hash_[record.token_hash] = std::make_shared<const ClientRecord>(record);
  }
  by_id_[record.id] = record;
  UpdateStateGauges();
  return absl::OkStatus();
}

absl::StatusOr<ClientRecord*> ClientDirectory::Find(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return absl::NotFoundError(absl::StrCat("no client with id '", id, "'"));
  return &it->second;
}

void ClientDirectory::Publish(const std::string& id, authpb::RevocationEvent::Kind kind) {
  authpb::RevocationEvent event;
  event.set_client_id(id);
  event.set_kind(kind);
  *event.mutable_at() = Timestamp(NowMs());
  feed_.Publish(event);
}

void ClientDirectory::UpdateStateGauges() {
  std::map<int, int> counts;
  const int64_t now = NowMs();
  for (const auto& [id, record] : by_id_) ++counts[StateOf(record, now)];
  for (int state = authpb::ClientState_MIN + 1; state <= authpb::ClientState_MAX; ++state) {
    metrics_.SetClients(static_cast<authpb::ClientState>(state), counts[state]);
  }
}

absl::StatusOr<authpb::CreateClientResponse> ClientDirectory::Create(
    const authpb::CreateClientRequest& request) {
  if (absl::Status s = CheckName(request.name()); !s.ok()) return s;
  if (absl::Status s = CheckPermissions(request.permissions()); !s.ok()) return s;
  absl::StatusOr<int64_t> expires = CheckExpiry(request.expires_at(), request.has_expires_at());
  if (!expires.ok()) return expires.status();

  const std::string token = GenerateToken();
  ClientRecord record;
  record.id = GenerateClientId();
  record.name = request.name();
  record.permissions = request.permissions();
  record.token_hash = HashToken(token);
  record.token_hint = record.token_hash.substr(0, 8);
  record.created_ms = record.updated_ms = NowMs();
  record.expires_ms = *expires;
  if (absl::Status s = Save(record, true); !s.ok()) return s;
  authpb::CreateClientResponse response;
  *response.mutable_client() = ToProto(record);
  response.set_token(token);
  return response;
}

absl::StatusOr<authpb::ListClientsResponse> ClientDirectory::List(
    const authpb::ListClientsRequest& request) const {
  if (request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0..", kMaxPageSize));
  }
  const uint32_t page_size = request.page_size() == 0 ? 50 : request.page_size();
  authpb::ListClientsResponse response;
  auto it =
      request.page_token().empty() ? by_id_.begin() : by_id_.upper_bound(request.page_token());
  for (; it != by_id_.end() && static_cast<uint32_t>(response.clients_size()) < page_size; ++it) {
    *response.add_clients() = ToProto(it->second);
  }
  if (it != by_id_.end() && response.clients_size() > 0) {
    response.set_next_page_token(response.clients(response.clients_size() - 1).id());
  }
  return response;
}

absl::StatusOr<authpb::Client> ClientDirectory::Get(const std::string& id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return absl::NotFoundError(absl::StrCat("no client with id '", id, "'"));
  return ToProto(it->second);
}

absl::StatusOr<authpb::Client> ClientDirectory::Update(const authpb::UpdateClientRequest& request) {
  absl::StatusOr<ClientRecord*> found = Find(request.id());
  if (!found.ok()) return found.status();
  if (request.update_mask().empty()) {
    return absl::InvalidArgumentError(
        "update_mask must name at least one of name, permissions, expires_at, enabled");
  }
  ClientRecord record = **found;
  bool permissions_changed = false;
  bool disabled = false;
  for (const std::string& field : request.update_mask()) {
    if (field == "name") {
      if (absl::Status s = CheckName(request.name()); !s.ok()) return s;
      record.name = request.name();
    } else if (field == "permissions") {
      if (absl::Status s = CheckPermissions(request.permissions()); !s.ok()) return s;
      record.permissions = request.permissions();
      permissions_changed = true;
    } else if (field == "expires_at") {
      absl::StatusOr<int64_t> expires = CheckExpiry(request.expires_at(), request.has_expires_at());
      if (!expires.ok()) return expires.status();
      record.expires_ms = *expires;
      expired_announced_.erase(record.id);
    } else if (field == "enabled") {
      disabled = record.enabled && !request.enabled();
      record.enabled = request.enabled();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("update_mask: unknown field '", field, "'"));
    }
  }
  record.updated_ms = NowMs();
  if (absl::Status s = Save(record, false); !s.ok()) return s;
  if (disabled) Publish(record.id, authpb::RevocationEvent::DISABLED);
  if (permissions_changed) Publish(record.id, authpb::RevocationEvent::PERMISSIONS_CHANGED);
  return ToProto(record);
}

absl::StatusOr<authpb::Client> ClientDirectory::Revoke(const std::string& id) {
  absl::StatusOr<ClientRecord*> found = Find(id);
  if (!found.ok()) return found.status();
  ClientRecord record = **found;
  record.revoked = true;
  record.updated_ms = NowMs();
  if (absl::Status s = Save(record, false); !s.ok()) return s;
  Publish(id, authpb::RevocationEvent::REVOKED);
  return ToProto(record);
}

absl::StatusOr<authpb::RotateTokenResponse> ClientDirectory::Rotate(const std::string& id) {
  absl::StatusOr<ClientRecord*> found = Find(id);
  if (!found.ok()) return found.status();
  ClientRecord record = **found;
  const std::string token = GenerateToken();
  record.token_hash = HashToken(token);
  record.token_hint = record.token_hash.substr(0, 8);
  record.revoked = false;
  record.updated_ms = NowMs();
  if (absl::Status s = Save(record, false); !s.ok()) return s;
  Publish(id, authpb::RevocationEvent::ROTATED);
  authpb::RotateTokenResponse response;
  *response.mutable_client() = ToProto(record);
  response.set_token(token);
  return response;
}

absl::Status ClientDirectory::Delete(const std::string& id) {
  absl::StatusOr<ClientRecord*> found = Find(id);
  if (!found.ok()) return found.status();
  if (absl::Status s = store_->Delete(id); !s.ok()) return s;
  {
    MutexLock lock(mu_);
    by_hash_.erase((*found)->token_hash);
  }
  by_id_.erase(id);
  expired_announced_.erase(id);
  UpdateStateGauges();
  Publish(id, authpb::RevocationEvent::DELETED);
  return absl::OkStatus();
}

void ClientDirectory::SweepExpired() {
  const int64_t now = NowMs();
  bool any = false;
  for (const auto& [id, record] : by_id_) {
    if (StateOf(record, now) == authpb::EXPIRED && expired_announced_.insert(id).second) {
      Publish(id, authpb::RevocationEvent::EXPIRED);
      any = true;
    }
  }
  if (any) UpdateStateGauges();
}

}  // namespace nb::auth
