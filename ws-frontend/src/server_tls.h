#ifndef NORTHBOUND_WS_FRONTEND_SERVER_TLS_H_
#define NORTHBOUND_WS_FRONTEND_SERVER_TLS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "common/mutex.h"
#include "common/tls.h"

namespace nb::frontend {

// The TLS configuration wss:// connections are accepted with: TLS 1.2 and 1.3 only,
// forward-secret AEAD ciphers, the certificate chain and key from files, and client
// certificates required when a client CA is given. The files are re-read when they change
// (cert-manager rotates them in place): new connections get the new certificate, open ones
// keep theirs. Thread-safe.
class ServerTls {
 public:
  static absl::StatusOr<std::unique_ptr<ServerTls>> Load(const TlsServerFiles& files);

  // The context for the next connection.
  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Re-reads the files if any changed since the last load. Returns whether the
  // certificate was replaced; an error (unreadable or mismatched files, as during a
  // half-written rotation) keeps the previous certificate, and the next call tries again.
  absl::StatusOr<bool> ReloadIfChanged();

  // Seconds from the Unix epoch at which the current certificate expires.
  int64_t not_after() const;

 private:
  explicit ServerTls(TlsServerFiles files) : files_(std::move(files)) {}

  // What identifies one version of the files.
  std::string Fingerprint() const;
  absl::Status LoadNow();

  const TlsServerFiles files_;
  mutable Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_ ABSL_GUARDED_BY(mu_);
  std::string fingerprint_ ABSL_GUARDED_BY(mu_);
  int64_t not_after_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_SERVER_TLS_H_
