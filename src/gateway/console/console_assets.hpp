#pragma once
// The console's page, script and style, compiled into the binary (as the load report's are), so
// the console works with no network and no files beside the binary. Each lives in its own .cpp.
// The page has no inline script or style: the Content-Security-Policy forbids both.
#include <string_view>

namespace sluice::gateway::console {

extern const std::string_view kConsoleHtml;    // console_page.cpp
extern const std::string_view kConsoleScript;  // console_script.cpp
extern const std::string_view kConsoleStyle;   // console_style.cpp

}  // namespace sluice::gateway::console
