#ifndef NORTHBOUND_AUTH_SERVICE_SERIAL_EXECUTOR_H_
#define NORTHBOUND_AUTH_SERVICE_SERIAL_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace nb::auth {

// One thread that runs posted tasks in order: the database thread. Blocking work (SQLite)
// runs here, never in a gRPC reaction. Post may be called from any thread.
class SerialExecutor {
 public:
  SerialExecutor();
  // Runs the tasks already posted, then joins.
  ~SerialExecutor();

  void Post(std::function<void()> task);

 private:
  void Run();

  Mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_SERIAL_EXECUTOR_H_
