// The protocol's error codes (docs/protocol.md §6) in plain words.
const WORDS = {
  PARAMETER_ERROR: 'The request was not valid: a value is missing, of the wrong type or out of range.',
  UNSUPPORTED_MESSAGE: 'The gateway does not support this kind of message.',
  UNKNOWN_TOPIC: 'The topic is not one the gateway knows.',
  PRODUCT_NOT_FOUND: 'There is no such product.',
  DEVICE_NOT_FOUND: 'There is no such device.',
  PROPERTY_UNDEFINED: 'The thing model has no such property.',
  FUNCTION_UNDEFINED: 'The thing model has no such function.',
  READ_ONLY: 'This property can be read but not written.',
  CLIENT_OFFLINE: 'The device is offline.',
  TIME_OUT: 'The device did not answer in time.',
  NO_REPLY: 'The device went away before it answered.',
  PERMISSION_DENIED: 'This client is not allowed to do that.',
  DUPLICATE_ID: 'A request with the same id is still running.',
  TOO_MANY_SUBSCRIPTIONS: 'Too many live subscriptions on this connection.',
  RATE_LIMITED: 'Too many requests at once; slow down.',
  SERVER_NOT_AVAILABLE: 'The gateway cannot reach a service it needs; try again shortly.',
  SYSTEM_ERROR: 'The gateway failed; its logs say why.',
  DEVICE_ERROR: 'The device answered with a failure of its own.',
  DEVICE_BUSY: 'The device has too many commands waiting; try again shortly.',
  UNAUTHENTICATED: 'The token was not accepted.',
};

export function describe(code) {
  return WORDS[code] ?? 'The request failed.';
}
