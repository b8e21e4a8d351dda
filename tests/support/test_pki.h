#ifndef NORTHBOUND_TESTS_SUPPORT_TEST_PKI_H_
#define NORTHBOUND_TESTS_SUPPORT_TEST_PKI_H_

#include <string>

namespace nb::testing {

// Throwaway certificate authorities and certificates, made with the openssl command line
// in `dir` when a test runs. Every certificate is for 127.0.0.1 and localhost, usable by a
// server and a client, with an EC P-256 key. Files: <name>.pem and <name>.key.
class TestPki {
 public:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}

  // A self-signed CA valid for a day. False (see error()) when openssl failed.
  bool MakeCa(const std::string& name);
  // A certificate signed by `ca`, valid for a day, or one that expired in 2020.
  bool Issue(const std::string& ca, const std::string& name, bool expired = false);

  std::string Cert(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  const std::string& error() const { return error_; }

 private:
  bool Run(const std::string& command);

  std::string dir_;
  std::string error_;
};

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_TEST_PKI_H_
