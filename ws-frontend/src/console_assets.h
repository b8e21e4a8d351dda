#ifndef NORTHBOUND_WS_FRONTEND_CONSOLE_ASSETS_H_
#define NORTHBOUND_WS_FRONTEND_CONSOLE_ASSETS_H_

#include <string_view>

namespace nb::frontend {

// One file of the operator console (ws-frontend/console), built into the binary so that
// the console always matches the frontend serving it and an image needs no extra files.
struct ConsoleAsset {
  // Relative to the console's root, for example "index.html" or "js/app.js".
  std::string_view path;
  std::string_view content;
};

// The file at `path`, or null.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_CONSOLE_ASSETS_H_
