#ifndef NORTHBOUND_COMMON_TLS_H_
#define NORTHBOUND_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace nb {

// What a process serves with. TLS is on when cert_file is set; client certificates are
// required (mTLS) when client_ca_file is set too.
struct TlsServerFiles {
  std::string cert_file;
  std::string key_file;
  // The CA client certificates must chain to.
  std::string client_ca_file;

  bool enabled() const { return !cert_file.empty(); }
};

// How a process calls the services it depends on. TLS is on when ca_file is set; the
// client certificate is presented when cert_file is set (for servers that require mTLS).
struct TlsClientFiles {
  // The CA the servers' certificates must chain to.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !ca_file.empty(); }
};

// The whole text of a PEM file, or NOT_FOUND / PERMISSION_DENIED naming it.
absl::StatusOr<std::string> ReadPemFile(const std::string& path);

// Checks that the files go together (a key with its certificate, a client CA only with a
// certificate) and can be read; INVALID_ARGUMENT naming the flag otherwise.
absl::Status CheckTlsFiles(const TlsServerFiles& server, const TlsClientFiles& client);

// Plaintext when !files.enabled(); otherwise TLS 1.2+ with the certificate, requiring and
// verifying client certificates when files.client_ca_file is set.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(
    const TlsServerFiles& files);

// Plaintext when !files.enabled(); otherwise TLS verifying the server against
// files.ca_file, presenting the client certificate when there is one.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> GrpcChannelCredentials(
    const TlsClientFiles& files);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_TLS_H_
