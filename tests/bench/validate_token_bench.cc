// ValidateToken latency over loopback gRPC with many clients stored.
//
//   validate_token_bench [--clients=10000] [--validations=20000] [--runs=5]
//
// Prints p50/p90/p99/max per run in microseconds, then the median of each across runs
// and the spread (min..max) of p99.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "auth-service/src/client_store.h"
#include "auth-service/src/token.h"
#include "grpcpp/grpcpp.h"
#include "northbound/auth/v1/auth.grpc.pb.h"
#include "tests/bench/bench_stats.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace {

namespace authpb = northbound::auth::v1;

// Fills the database in one transaction; creating 10k clients through the API would spend
// minutes in fsync and measure nothing of interest here.
std::vector<std::string> Populate(const std::string& path, long clients) {
  { auto store = nb::auth::ClientStore::Open(path); }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(
      db,
      "INSERT INTO clients (id, name, enabled, revoked, token_hash, token_hint, "
      "permissions, created_ms, updated_ms, expires_ms) VALUES (?1, ?2, 1, 0, ?3, ?4, ?5, 1, 1, 0)",
      -1, &insert, nullptr);
  authpb::Permissions permissions;
  permissions.set_all_products(true);
  permissions.add_operations(authpb::READ_PROPERTY);
  const std::string blob = permissions.SerializeAsString();
  std::vector<std::string> tokens;
  for (long i = 0; i < clients; ++i) {
    const std::string token = nb::auth::GenerateToken();
    const std::string hash = nb::auth::HashToken(token);
    const std::string id = nb::auth::GenerateClientId();
    const std::string name = absl::StrCat("bench-", i);
    const std::string hint = hash.substr(0, 8);
    sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 4, hint.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 5, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    tokens.push_back(token);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return tokens;
}

}  // namespace

int main(int argc, char** argv) {
  const long clients = nb::bench::Flag(argc, argv, "clients", 10000);
  const long validations = nb::bench::Flag(argc, argv, "validations", 20000);
  const long runs = nb::bench::Flag(argc, argv, "runs", 5);

  nb::testing::TempDir dir;
  const std::vector<std::string> tokens = Populate(dir.File("auth.db"), clients);
  nb::testing::ServiceProcess service = nb::testing::ServiceProcess::Start(
      NB_AUTH_SERVICE_BIN, dir.path(), "auth_service",
      {"--grpc_port=0", "--metrics_port=0", "--database=" + dir.File("auth.db")});
  if (!service.started()) {
    std::fprintf(stderr, "auth-service did not start:\n%s\n", service.log().c_str());
    return 1;
  }
  auto stub = authpb::AuthService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", service.port("grpc_port")), grpc::InsecureChannelCredentials()));

  std::printf("ValidateToken, %ld clients stored, %ld sequential calls per run, loopback\n",
              clients, validations);
  std::printf("run      p50 us    p90 us    p99 us    max us\n");
  std::vector<double> p50s, p90s, p99s, maxes;
  for (long run = 0; run < runs; ++run) {
    std::vector<double> samples;
    samples.reserve(validations);
    for (long i = 0; i < validations; ++i) {
      authpb::ValidateTokenRequest request;
      request.set_token(tokens[(i * 7919) % tokens.size()]);
      authpb::ValidateTokenResponse response;
      grpc::ClientContext context;
      const auto start = std::chrono::steady_clock::now();
      const grpc::Status status = stub->ValidateToken(&context, request, &response);
      const auto end = std::chrono::steady_clock::now();
      if (!status.ok() || response.status() != authpb::VALID) {
        std::fprintf(stderr, "validation failed: %s\n", status.error_message().c_str());
        return 1;
      }
      samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    const nb::bench::Percentiles p = nb::bench::Summarize(samples);
    std::printf("%3ld %10.0f %9.0f %9.0f %9.0f\n", run + 1, p.p50, p.p90, p.p99, p.max);
    p50s.push_back(p.p50);
    p90s.push_back(p.p90);
    p99s.push_back(p.p99);
    maxes.push_back(p.max);
  }
  std::printf("median %7.0f %9.0f %9.0f %9.0f   (p99 spread %.0f..%.0f us)\n",
              nb::bench::Median(p50s), nb::bench::Median(p90s), nb::bench::Median(p99s),
              nb::bench::Median(maxes), *std::min_element(p99s.begin(), p99s.end()),
              *std::max_element(p99s.begin(), p99s.end()));
  return 0;
}
