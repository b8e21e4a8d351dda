#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_DRIVER_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_DRIVER_H_

#include <memory>

#include "device-service/src/driver_registry.h"

namespace nb::device {

// `driver: mqtt`: devices speaking the SagooIOT MQTT protocol (alink_codec.h) through a
// broker. device-service is one MQTT client per broker of the fleet, however many devices
// sit behind it:
//
//   drivers:
//     mqtt:
//       brokers:
//         - name: plant                      # devices name it (optional with one broker)
//           uri: mqtt://broker.local:1883    # or mqtts:// with ca_file [cert_file key_file]
//           client_id: northbound-device-service
//           username: northbound             # optional; the password only from a file:
//           password_file: /run/secrets/mqtt-password
//           keepalive_s: 30
//           reconnect_min_ms: 500            # capped exponential backoff with jitter
//           reconnect_max_ms: 30000
//   devices:
//     - key: sensor7
//       product: sagoo-product
//       driver: mqtt
//       settings: {broker: plant, report_interval_ms: 5000, offline_after_ms: 15000}
//
// A device is online while its retained status says "online" (its Last Will says
// "offline") and it is not silent for longer than offline_after_ms (default three report
// intervals; 0 turns the check off). While the broker is unreachable every device of it is
// offline and commands get CLIENT_OFFLINE at once; commands in flight get NO_REPLY.
//
// The library is libmosquitto: Eclipse Mosquitto's own C client, in Debian, small, with
// MQTT 3.1.1/5 and TLS, and a loop the driver runs on a thread of its own (one per broker),
// so reconnection with jittered backoff, the offline sweep and the deadline sweep live in
// one place. Paho C++ brings its own thread pool and callback model for no gain here.
// Only mqtt_broker.cc includes it; mqtt_settings.cc parses the settings and
// mqtt_metrics.cc holds the metric families.
std::unique_ptr<DriverFactory> MakeMqttDriverFactory();

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_MQTT_DRIVER_H_
