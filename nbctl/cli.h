#ifndef NORTHBOUND_NBCTL_CLI_H_
#define NORTHBOUND_NBCTL_CLI_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace nb::nbctl {

// nbctl's command line: parses `args` (without the program name) and runs the command.
// Exit status: 0 done (and for --help), 1 the command ran and failed (refused, unreachable,
// an error frame), 2 the command line is wrong (unknown option or subcommand, a value of
// the wrong type, a missing argument) — with a one-line reason on `err`.
int RunNbctl(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
             std::ostream& err);

}  // namespace nb::nbctl

#endif  // NORTHBOUND_NBCTL_CLI_H_
