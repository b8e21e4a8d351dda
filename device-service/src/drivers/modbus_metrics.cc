#include "device-service/src/drivers/modbus_metrics.h"

#include <utility>

namespace nb::device {

ModbusMetrics::ModbusMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("northbound_modbus_requests_total")
                    .Help("Modbus requests by outcome: ok, exception (the device refused), "
                          "timeout, bad_response, broken (the connection failed)")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("northbound_modbus_request_seconds")
                   .Help("Time from sending a Modbus request to its answer")
                   .Register(registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005,
                                                                    0.01, 0.025, 0.05, 0.1, 0.25,
                                                                    0.5, 1, 2.5})),
      connected_(prometheus::BuildGauge()
                     .Name("northbound_modbus_endpoints_connected")
                     .Help("Modbus endpoints with an open connection")
                     .Register(registry)
                     .Add({})),
      reconnects_(prometheus::BuildCounter()
                      .Name("northbound_modbus_reconnects_total")
                      .Help("Connections made again after one failed or went silent")
                      .Register(registry)
                      .Add({})),
      rejected_(prometheus::BuildCounter()
                    .Name("northbound_modbus_commands_rejected_total")
                    .Help("Commands not sent: busy (the endpoint's queue was full), offline")
                    .Register(registry)),
      polls_(prometheus::BuildCounter()
                 .Name("northbound_modbus_polls_total")
                 .Help("Polls of every property of a device")
                 .Register(registry)
                 .Add({})),
      invalid_(prometheus::BuildCounter()
                   .Name("northbound_modbus_invalid_values_total")
                   .Help("Values read from a device that its thing model refuses")
                   .Register(registry)
                   .Add({})) {
  for (auto [outcome, label] : {std::pair{Outcome::kOk, "ok"},
                                {Outcome::kException, "exception"},
                                {Outcome::kTimeout, "timeout"},
                                {Outcome::kBadResponse, "bad_response"},
                                {Outcome::kBroken, "broken"}}) {
    outcomes_[static_cast<size_t>(outcome)] = &requests_.Add({{"outcome", label}});
  }
  busy_ = &rejected_.Add({{"reason", "busy"}});
  offline_ = &rejected_.Add({{"reason", "offline"}});
}

}  // namespace nb::device
