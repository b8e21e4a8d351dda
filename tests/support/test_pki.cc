#include "tests/support/test_pki.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace nb::testing {

namespace {

constexpr char kKeyOptions[] = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

}  // namespace

bool TestPki::Run(const std::string& command) {
  const CommandResult result = RunCommand(command + " 2>&1");
  if (result.exit_status != 0) {
    error_ = absl::StrCat(command, "\n", result.output);
    return false;
  }
  return true;
}

bool TestPki::MakeCa(const std::string& name) {
  return Run(absl::StrCat("openssl req -x509 ", kKeyOptions, " -keyout ", Key(name), " -out ",
                          Cert(name), " -days 1 -subj /CN=", name,
                          " -addext basicConstraints=critical,CA:TRUE"
                          " -addext keyUsage=critical,keyCertSign,cRLSign"));
}

bool TestPki::Issue(const std::string& ca, const std::string& name, bool expired) {
  // `openssl ca` is the command line's way to set arbitrary validity dates.
  const std::string state = absl::StrCat(dir_, "/", ca, ".state");
  const std::string config = absl::StrCat(state, "/ca.cnf");
  if (!Run(absl::StrCat("mkdir -p ", state, " && touch ", state, "/index.txt"))) return false;
  std::ofstream(config) << "[ca]\ndefault_ca = test\n"
                        << "[test]\ndatabase = " << state << "/index.txt\n"
                        << "new_certs_dir = " << state << "\n"
                        << "rand_serial = yes\nunique_subject = no\ndefault_md = sha256\n"
                        << "policy = any\ncopy_extensions = none\nx509_extensions = leaf\n"
                        << "[any]\ncommonName = supplied\n"
                        << "[leaf]\nbasicConstraints = CA:FALSE\n"
                        << "keyUsage = critical,digitalSignature,keyEncipherment\n"
                        << "extendedKeyUsage = serverAuth,clientAuth\n"
                        << "subjectAltName = IP:127.0.0.1,DNS:localhost\n";
  const std::string csr = absl::StrCat(dir_, "/", name, ".csr");
  const std::string dates =
      expired ? "-startdate 20200101000000Z -enddate 20200102000000Z" : "-days 1";
  return Run(absl::StrCat("openssl req ", kKeyOptions, " -keyout ", Key(name), " -out ", csr,
                          " -subj /CN=", name)) &&
         Run(absl::StrCat("openssl ca -batch -notext -config ", config, " -cert ", Cert(ca),
                          " -keyfile ", Key(ca), " ", dates, " -in ", csr, " -out ", Cert(name)));
}

}  // namespace nb::testing
