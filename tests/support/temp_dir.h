#ifndef NORTHBOUND_TESTS_SUPPORT_TEMP_DIR_H_
#define NORTHBOUND_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace nb::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_TEMP_DIR_H_
