#include "ws-frontend/src/server_tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace nb::frontend {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites with forward secrecy and AEAD; TLS 1.3 keeps OpenSSL's (all modern).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string FileVersion(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return "-";
  return absl::StrCat(info.st_ino, ":", info.st_size, ":", info.st_mtim.tv_sec, ".",
                      info.st_mtim.tv_nsec);
}

absl::StatusOr<int64_t> NotAfter(ssl::context& context) {
  X509* certificate = SSL_CTX_get0_certificate(context.native_handle());
  if (certificate == nullptr) return absl::InvalidArgumentError("no certificate loaded");
  int days = 0;
  int seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(certificate)) != 1) {
    return absl::InvalidArgumentError("the certificate's notAfter cannot be read");
  }
  return static_cast<int64_t>(::time(nullptr)) + int64_t{days} * 86400 + seconds;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Load(const TlsServerFiles& files) {
  auto tls = std::unique_ptr<ServerTls>(new ServerTls(files));
  if (absl::Status s = tls->LoadNow(); !s.ok()) return s;
  return tls;
}

std::string ServerTls::Fingerprint() const {
  return absl::StrCat(FileVersion(files_.cert_file), "|", FileVersion(files_.key_file), "|",
                      FileVersion(files_.client_ca_file));
}

absl::Status ServerTls::LoadNow() {
  const std::string fingerprint = Fingerprint();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code error;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       error);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(context->native_handle(), kTls12Ciphers);
  context->use_certificate_chain_file(files_.cert_file, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert_file '", files_.cert_file, "': ", error.message()));
  }
  context->use_private_key_file(files_.key_file, ssl::context::pem, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file '", files_.key_file, "': ", error.message()));
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return absl::InvalidArgumentError("--tls_key_file does not match --tls_cert_file");
  }
  if (!files_.client_ca_file.empty()) {
    context->load_verify_file(files_.client_ca_file, error);
    if (error) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_client_ca_file '", files_.client_ca_file, "': ", error.message()));
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  absl::StatusOr<int64_t> not_after = NotAfter(*context);
  if (!not_after.ok()) return not_after.status();
  MutexLock lock(mu_);
  context_ = std::move(context);
  fingerprint_ = fingerprint;
  not_after_ = *not_after;
  return absl::OkStatus();
}

std::shared_ptr<ssl::context> ServerTls::current() const {
  MutexLock lock(mu_);
  return context_;
}

int64_t ServerTls::not_after() const {
  MutexLock lock(mu_);
  return not_after_;
}

absl::StatusOr<bool> ServerTls::ReloadIfChanged() {
  {
    MutexLock lock(mu_);
    if (Fingerprint() == fingerprint_) return false;
  }
  if (absl::Status s = LoadNow(); !s.ok()) return s;
  return true;
}

}  // namespace nb::frontend
