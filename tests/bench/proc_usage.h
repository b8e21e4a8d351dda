#ifndef NORTHBOUND_TESTS_BENCH_PROC_USAGE_H_
#define NORTHBOUND_TESTS_BENCH_PROC_USAGE_H_

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace nb::bench {

// What a process has used so far, read from /proc: CPU time (user + system, all threads)
// and context switches (voluntary + involuntary, summed over its live threads).
struct ProcUsage {
  double cpu_seconds = 0;
  long context_switches = 0;
};

inline ProcUsage ReadProcUsage(long pid) {
  ProcUsage usage;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int index = 3; fields >> field; ++index) {
      if (index == 14) utime = std::stoul(field);
      if (index == 15) {
        stime = std::stoul(field);
        break;
      }
    }
    usage.cpu_seconds = static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
  }
  if (DIR* tasks = opendir((dir + "/task").c_str())) {
    while (const dirent* entry = readdir(tasks)) {
      if (entry->d_name[0] == '.') continue;
      std::ifstream status(dir + "/task/" + entry->d_name + "/status");
      while (std::getline(status, line)) {
        if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
          usage.context_switches += std::stol(line.substr(24));
        } else if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
          usage.context_switches += std::stol(line.substr(27));
        }
      }
    }
    closedir(tasks);
  }
  return usage;
}

}  // namespace nb::bench

#endif  // NORTHBOUND_TESTS_BENCH_PROC_USAGE_H_
