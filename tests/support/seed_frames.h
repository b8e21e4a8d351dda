#ifndef NORTHBOUND_TESTS_SUPPORT_SEED_FRAMES_H_
#define NORTHBOUND_TESTS_SUPPORT_SEED_FRAMES_H_

// The request frames of the protocol's original examples (docs/protocol.md §4), verbatim
// but for the comments, which JSON does not allow: the tests send them unchanged to show
// that a client written from those examples works.
namespace nb::testing {

// READ_PROPERTY of temperature on device1 and device2.
inline constexpr char kSeedReadProperty[] = R"({
  "id": "request-id",
  "type": "sub",
  "topic": "/device-message-sender/sagoo-product/device1,device2",
  "parameter": {
     "meta":{
        "async":false
     },
     "messageType":"READ_PROPERTY",
     "properties":["temperature"]
  }
})";

// WRITE_PROPERTY of temperature 20 on device1 and device2.
inline constexpr char kSeedWriteProperty[] = R"({
  "id": "request-id",
  "type": "sub",
  "topic": "/device-message-sender/sagoo-product/device1,device2",
  "parameter": {
     "meta":{
        "async":false
     },
     "messageType":"WRITE_PROPERTY",
     "properties":{
        "temperature": 20
     }
  }
})";

// INVOKE_FUNCTION as the example writes it: with properties, without a functionId.
inline constexpr char kSeedInvokeFunction[] = R"({
  "id": "request-id",
  "type": "sub",
  "topic": "/device-message-sender/sagoo-product/device1,device2",
  "parameter": {
     "meta":{
        "async":false
     },
     "messageType":"INVOKE_FUNCTION",
     "properties":{
        "temperature": 20
     }
  }
})";

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_SEED_FRAMES_H_
