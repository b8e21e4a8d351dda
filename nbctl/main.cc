// nbctl: the operator's command line for Northbound (docs/auth.md, docs/protocol.md §10).
#include <iostream>

#include "nbctl/cli.h"

int main(int argc, char** argv) {
  return nb::nbctl::RunNbctl(std::vector<std::string>(argv + 1, argv + argc), std::cin, std::cout,
                             std::cerr);
}
