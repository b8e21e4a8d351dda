#ifndef NORTHBOUND_NBCTL_CLIENT_COMMANDS_H_
#define NORTHBOUND_NBCTL_CLIENT_COMMANDS_H_

#include <ostream>

#include "nbctl/arguments.h"

namespace nb::nbctl {

// `nbctl client ...`: manages northbound clients through auth-service's ClientAdmin.
// Returns the process exit code; output goes to `out`, errors to `err`.
int RunClientCommand(const Arguments& arguments, std::ostream& out, std::ostream& err);

}  // namespace nb::nbctl

#endif  // NORTHBOUND_NBCTL_CLIENT_COMMANDS_H_
