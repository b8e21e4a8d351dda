#ifndef NORTHBOUND_COMMON_SIGNALS_H_
#define NORTHBOUND_COMMON_SIGNALS_H_

namespace nb {

// Blocks SIGTERM and SIGINT in the calling thread. Call it first thing in main, before any
// thread starts, so every thread inherits the mask and the signals wait for
// WaitForTerminationSignal instead of killing the process mid-write.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives and returns its number.
int WaitForTerminationSignal();

}  // namespace nb

#endif  // NORTHBOUND_COMMON_SIGNALS_H_
