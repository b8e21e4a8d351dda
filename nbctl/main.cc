// nbctl: the operator's command line for Northbound.
#include <iostream>

#include "nbctl/arguments.h"
#include "nbctl/client_commands.h"
#include "nbctl/ws_commands.h"

int main(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<nb::nbctl::Arguments> arguments =
      nb::nbctl::ParseArguments(words, {"all-products", "enable", "disable", "help", "async"});
  if (!arguments.ok()) {
    std::cerr << "nbctl: " << arguments.status().message() << "\n";
    return 2;
  }
  if (!arguments->words.empty() && arguments->words[0] == "ws") {
    return nb::nbctl::RunWsCommand(*arguments, std::cin, std::cout, std::cerr);
  }
  return nb::nbctl::RunClientCommand(*arguments, std::cout, std::cerr);
}
