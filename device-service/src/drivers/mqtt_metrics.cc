#include "device-service/src/drivers/mqtt_metrics.h"

#include "common/metrics.h"

namespace nb::device {

MqttMetrics::MqttMetrics(prometheus::Registry& registry)
    : messages_family_(prometheus::BuildCounter()
                           .Name(MetricName("mqtt", "messages", "", true))
                           .Help("MQTT messages by direction and kind (request, reply, report, "
                                 "event, status, ack, own).")
                           .Register(registry)),
      invalid_family_(prometheus::BuildCounter()
                          .Name(MetricName("mqtt", "invalid_messages", "", true))
                          .Help("Device messages dropped: not JSON, over the size limit, unknown "
                                "device, values the thing model refuses, or a foreign topic.")
                          .Register(registry)),
      unmatched_(prometheus::BuildCounter()
                     .Name(MetricName("mqtt", "unmatched_replies", "", true))
                     .Help("Replies no command waits for (late, repeated or unknown id).")
                     .Register(registry)
                     .Add({})),
      latency_(prometheus::BuildHistogram()
                   .Name(MetricName("mqtt", "reply_latency", "seconds"))
                   .Help("From publishing a request to its device's reply.")
                   .Register(registry)
                   .Add({}, LatencyBuckets())),
      connected_(prometheus::BuildGauge()
                     .Name(MetricName("mqtt", "broker_connected"))
                     .Help("1 while the broker connection is up.")
                     .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name(MetricName("mqtt", "commands_in_flight"))
                     .Help("Commands published and waiting for their device's reply.")
                     .Register(registry)
                     .Add({})),
      reconnects_(prometheus::BuildCounter()
                      .Name(MetricName("mqtt", "reconnects", "", true))
                      .Help("Connection attempts after the first, by broker.")
                      .Register(registry)) {
  constexpr const char* kDirections[] = {"in", "out"};
  constexpr const char* kKindNames[kKinds] = {"request", "reply", "report", "event",
                                              "status",  "ack",   "own"};
  constexpr const char* kReasonNames[kReasons] = {"json", "too_large", "unknown_device", "model",
                                                  "topic"};
  for (size_t direction = 0; direction < 2; ++direction) {
    for (size_t kind = 0; kind < kKinds; ++kind) {
      messages_[direction][kind] = &messages_family_.Add(
          {{"direction", kDirections[direction]}, {"kind", kKindNames[kind]}});
    }
  }
  for (size_t reason = 0; reason < kReasons; ++reason) {
    invalid_[reason] = &invalid_family_.Add({{"reason", kReasonNames[reason]}});
  }
}

prometheus::Gauge& MqttMetrics::connected(const std::string& broker) {
  return connected_.Add({{"broker", broker}});
}

prometheus::Counter& MqttMetrics::reconnects(const std::string& broker) {
  return reconnects_.Add({{"broker", broker}});
}

}  // namespace nb::device
