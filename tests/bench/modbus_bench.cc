// The Modbus benchmark (scripts/bench-modbus): device-service's runtime in this process,
// with the modbus driver, against a pymodbus server (tests/peers/modbus_server.py).
//
//   1. READ_PROPERTY round trip through dispatcher and driver to the server, one command
//      at a time; the reference, in the same run, is a bare libmodbus client reading the
//      same registers from the same server (the server's and the wire's ceiling).
//   2. 100 devices polled every second: all behind one endpoint, then each on its own
//      endpoint (the same server listening on 100 ports). Polls per second achieved and
//      the CPU this process (device-service's runtime) spends.
//
// Prints a Markdown table. A benchmark, not a test: it asserts nothing.
#include <modbus/modbus.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "device-service/src/device_runtime.h"
#include "tests/support/modbus_peer.h"
#include "tests/support/mosquitto.h"
#include "tests/support/temp_dir.h"

namespace nb::device {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kProduct[] = R"(
products:
  - key: meter
    properties:
      - {id: voltage, type: double, min: 0, max: 480, access: r}
      - {id: current, type: double, min: 0, max: 100, access: r}
      - {id: energy, type: double, min: 0, access: r}
      - {id: relay, type: bool, access: rw}
devices:
)";

std::string Device(int n, const std::string& endpoint, int unit, int poll_ms) {
  return absl::StrFormat(R"(  - key: m%d
    product: meter
    driver: modbus
    settings:
      endpoint: %s
      unit_id: %d
      poll_interval_ms: %d
      registers:
        voltage: {table: input, address: 0, type: float32, scale: 0.1}
        current: {table: input, address: 2, type: float32}
        energy: {table: holding, address: 10, type: uint32, word_order: little, scale: 0.1}
        relay: {table: coil, address: 0}
)",
                         n, endpoint, unit, poll_ms);
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Latency {
  double p50_us = 0;
  double p99_us = 0;
  double per_second = 0;
};

Latency Summarize(std::vector<double> samples_us, double seconds) {
  std::sort(samples_us.begin(), samples_us.end());
  Latency latency;
  latency.p50_us = samples_us[samples_us.size() / 2];
  latency.p99_us = samples_us[samples_us.size() * 99 / 100];
  latency.per_second = samples_us.size() / seconds;
  return latency;
}

Latency BareLibmodbus(int port, int count) {
  modbus_t* context = modbus_new_tcp("127.0.0.1", port);
  modbus_connect(context);
  modbus_set_slave(context, 1);
  std::vector<double> samples;
  uint16_t words[12];
  uint8_t bits[1];
  const Clock::time_point begin = Clock::now();
  for (int i = 0; i < count; ++i) {
    const Clock::time_point start = Clock::now();
    // The same requests the driver makes for a read of every property.
    if (modbus_read_input_registers(context, 0, 4, words) < 0 ||
        modbus_read_registers(context, 10, 2, words) < 0 ||
        modbus_read_bits(context, 0, 1, bits) < 0) {
      std::cerr << "modbus_bench: the server does not answer: " << modbus_strerror(errno) << "\n";
      std::exit(1);
    }
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  modbus_close(context);
  modbus_free(context);
  return Summarize(std::move(samples), seconds);
}

std::unique_ptr<DeviceRuntime> StartRuntime(const std::string& path, prometheus::Registry& registry,
                                            int devices) {
  DeviceRuntimeOptions options;
  options.fleet_path = path;
  auto runtime = DeviceRuntime::Create(options, registry);
  if (!runtime.ok()) {
    std::cerr << runtime.status() << "\n";
    std::exit(1);
  }
  if (!(*runtime)->Start().ok()) std::exit(1);
  nb::testing::WaitFor(
      [&] {
        for (int n = 0; n < devices; ++n) {
          if (!(*runtime)->registry().FindDevice("meter", absl::StrCat("m", n))->online.load()) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(60));
  return *std::move(runtime);
}

Latency DriverRoundTrip(DeviceRuntime& runtime, int count) {
  devicepb::SendRequest request;
  request.set_product_key("meter");
  request.add_device_keys("m0");
  request.set_message_type(devicepb::READ_PROPERTY);
  std::vector<double> samples;
  const Clock::time_point begin = Clock::now();
  for (int i = 0; i < count; ++i) {
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    const Clock::time_point start = Clock::now();
    auto operation = runtime.dispatcher().Start(
        request,
        [](devicepb::SendReply reply) {
          if (reply.code() != 0) {
            std::cerr << "modbus_bench: read failed: " << reply.message() << "\n";
            std::exit(1);
          }
        },
        [&] {
          std::lock_guard<std::mutex> lock(mu);
          done = true;
          done_cv.notify_one();
        });
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return done; });
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  return Summarize(std::move(samples), seconds);
}

double Counter(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
  }
  return 0;
}

struct PollFigures {
  double polls_per_second = 0;
  double cpu_percent = 0;
};

PollFigures Poll(const std::string& fleet_path, int devices, int seconds) {
  prometheus::Registry registry;
  auto runtime = StartRuntime(fleet_path, registry, devices);
  const double polls_before = Counter(registry, "northbound_modbus_polls_total");
  const double cpu_before = CpuSeconds();
  const Clock::time_point begin = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double wall = std::chrono::duration<double>(Clock::now() - begin).count();
  PollFigures figures;
  figures.polls_per_second =
      (Counter(registry, "northbound_modbus_polls_total") - polls_before) / wall;
  figures.cpu_percent = 100 * (CpuSeconds() - cpu_before) / wall;
  runtime->Stop();
  return figures;
}

int Main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
  const int reads = argc > 2 ? std::atoi(argv[2]) : 2000;
  constexpr int kDevices = 100;
  nb::testing::TempDir dir;

  std::vector<int> extra_ports;
  std::string extra;
  for (int i = 1; i < kDevices; ++i) {
    extra_ports.push_back(nb::testing::FreeLoopbackPort());
    absl::StrAppend(&extra, extra.empty() ? "" : ",", extra_ports.back());
  }
  const int port = nb::testing::FreeLoopbackPort();
  nb::testing::Process server =
      nb::testing::Process::Start({"/usr/bin/python3", NB_MODBUS_PEER, "--port",
                                   std::to_string(port), "--meter", "--extra-ports", extra},
                                  {}, dir.File("server.log"));
  if (!nb::testing::WaitFor(
          [&] {
            return nb::testing::ReadFile(dir.File("server.log")).find("ready") != std::string::npos;
          },
          std::chrono::seconds(30))) {
    std::cerr << nb::testing::ReadFile(dir.File("server.log"));
    return 1;
  }
  const std::string endpoint = absl::StrCat("127.0.0.1:", port);

  // 1. Round trip.
  const Latency bare = BareLibmodbus(port, reads);
  Latency driver;
  {
    std::ofstream(dir.File("one.yaml")) << kProduct << Device(0, endpoint, 1, 0);
    prometheus::Registry registry;
    auto runtime = StartRuntime(dir.File("one.yaml"), registry, 1);
    driver = DriverRoundTrip(*runtime, reads);
    runtime->Stop();
  }

  // 2. Polling.
  {
    std::ofstream shared(dir.File("shared.yaml"));
    shared << kProduct;
    for (int n = 0; n < kDevices; ++n) shared << Device(n, endpoint, 1, 1000);
  }
  {
    std::ofstream spread(dir.File("spread.yaml"));
    spread << kProduct;
    spread << Device(0, endpoint, 1, 1000);
    for (int n = 1; n < kDevices; ++n) {
      spread << Device(n, absl::StrCat("127.0.0.1:", extra_ports[n - 1]), 1, 1000);
    }
  }
  const PollFigures one = Poll(dir.File("shared.yaml"), kDevices, seconds);
  const PollFigures many = Poll(dir.File("spread.yaml"), kDevices, seconds);

  std::cout << "| scenario | figure |\n|---|---|\n";
  std::cout << absl::StrFormat(
      "| bare libmodbus client, the driver's 3 requests for one READ (reference) | %.0f "
      "reads/s, p50 %.0f µs, p99 %.0f µs |\n",
      bare.per_second, bare.p50_us, bare.p99_us);
  std::cout << absl::StrFormat(
      "| READ_PROPERTY of 4 properties through dispatcher and driver | %.0f reads/s, p50 %.0f "
      "µs, p99 %.0f µs (p50 %.2f× the reference) |\n",
      driver.per_second, driver.p50_us, driver.p99_us, driver.p50_us / bare.p50_us);
  for (const auto& [layout, figures] :
       {std::pair{"one endpoint", one}, std::pair{"100 endpoints", many}}) {
    std::cout << absl::StrFormat(
        "| 100 devices polled every 1 s, %s | %.1f polls/s (%.0f %% of 100), "
        "device-service CPU %.1f %% of a core |\n",
        layout, figures.polls_per_second, figures.polls_per_second, figures.cpu_percent);
  }
  return 0;
}

}  // namespace
}  // namespace nb::device

int main(int argc, char** argv) { return nb::device::Main(argc, argv); }
