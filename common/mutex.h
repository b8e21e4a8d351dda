#ifndef NORTHBOUND_COMMON_MUTEX_H_
#define NORTHBOUND_COMMON_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace nb {

// A std::mutex that clang's -Wthread-safety understands: members marked
// ABSL_GUARDED_BY(mu_) are checked at compile time to be touched only under the lock
// (the clang builds fail otherwise). Same cost as std::mutex; no deadlock detection.
class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds a Mutex for its scope; may be released early with Unlock() (and taken again).
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {
    if (locked_) mu_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() ABSL_UNLOCK_FUNCTION() {
    mu_.Unlock();
    locked_ = false;
  }
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    locked_ = true;
  }

  // Releases the lock while waiting on `cv` and holds it again on return. Wake-ups may
  // be spurious: call it in a loop on the condition (the loop, unlike a predicate lambda,
  // is checked by the analysis).
  void Wait(std::condition_variable& cv) {
    std::unique_lock<std::mutex> native(mu_.mu_, std::adopt_lock);
    cv.wait(native);
    native.release();
  }
  // As Wait, until `deadline`; false once it has passed.
  bool WaitUntil(std::condition_variable& cv, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> native(mu_.mu_, std::adopt_lock);
    const bool woken = cv.wait_until(native, deadline) == std::cv_status::no_timeout;
    native.release();
    return woken;
  }

 private:
  Mutex& mu_;
  bool locked_ = true;
};

}  // namespace nb

#endif  // NORTHBOUND_COMMON_MUTEX_H_
