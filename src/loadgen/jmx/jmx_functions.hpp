#pragma once
// The template functions of JMeter plans, as Azure Load Testing resolves them.
//
// JMX templates compile with jmx_functions(): the loadgen defaults (template.hpp) with these
// replaced or added:
//   __P(name[,default])              test property, else default, else "1" (JMeter)
//   __property(name[,var[,default]]) test property, else default, else the name (JMeter)
//   __env(NAME[,var[,default]])      test property (the YAML's `env`), else the process
//                                    environment, else default
//   __BeanShell(script) / __groovy   only the idiom System.getenv("NAME") (and props.get("NAME")),
//                                    resolved like __env; any other script is refused before the
//                                    run by check_scripts()
//   __time([format[,var]])           epoch ms; "/1000" seconds; YMD, HMS, YMDHMS; else a Java
//                                    SimpleDateFormat pattern, in UTC
//   __urlencode(text)                percent-encodes its argument
// In Azure Load Testing the test's `env` entries are environment variables of the JMeter process;
// here they are the Plan's properties, so every engine thread reads them without touching the real
// environment.
//
// Threads: the registry is built once and immutable; every function uses only the scope it gets.
#include <chrono>
#include <string>
#include <string_view>

#include "sluice/core/result.hpp"
#include "sluice/loadgen/template.hpp"

namespace sluice::loadgen::jmx {

const FunctionRegistry& jmx_functions();

// Refuses ${__BeanShell(...)} / ${__groovy(...)} calls in `text` whose script is not one of the
// understood idioms. The message names the script and what to write instead.
core::Result<void> check_scripts(std::string_view text);

// Formats `when` (UTC) with a Java SimpleDateFormat pattern: y M d H h m s S a E, 'quoted' text.
// Other pattern letters are an error.
core::Result<std::string> format_simple_date(std::string_view pattern,
                                             std::chrono::system_clock::time_point when);

}  // namespace sluice::loadgen::jmx
