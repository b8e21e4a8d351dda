// nbctl: the operator's command line for Northbound.
#include <iostream>

#include "nbctl/arguments.h"
#include "nbctl/client_commands.h"

int main(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<nb::nbctl::Arguments> arguments =
      nb::nbctl::ParseArguments(words, {"all-products", "enable", "disable", "help"});
  if (!arguments.ok()) {
    std::cerr << "nbctl: " << arguments.status().message() << "\n";
    return 2;
  }
  return nb::nbctl::RunClientCommand(*arguments, std::cout, std::cerr);
}
