#pragma once
// Reads JMeter .jmx plans (the jmeterTestPlan / hashTree XML) into a loadgen Plan.
//
// Supported elements: TestPlan (user-defined variables), Arguments, ThreadGroup, LoopController,
// OnceOnlyController, GenericController, HTTPSamplerProxy, HeaderManager, CSVDataSet,
// JSONPostProcessor, RegexExtractor, ResponseAssertion, ConstantTimer, UniformRandomTimer.
// Listeners (ResultCollector, Summariser, BackendListener) are ignored with a note: sluice writes
// its own results. Anything else, and any unsupported function or BeanShell script, is a
// core::ConfigError before the run, naming file:line, the element path
// ("Test Plan/Thread Group/HTTP Request") and what to do. Elements with enabled="false" are
// skipped with their subtree.
//
// JMeter scoping is compiled away: header managers go to the group, controller or sampler whose
// scope they cover (the engine merges them, inner ones winning); timers, post-processors and
// assertions are copied to every sampler in their scope (timers become Timer steps before it).
//
// Values: the test's `env` entries (and --env) are the plan's properties (__P, __env, BeanShell
// System.getenv); secrets come from PlanContext::secrets, else the environment or --secrets-file
// for every ${__GetSecret(NAME)} the plan uses. Thread counts, loops and durations are resolved
// now; an unresolved thread count or loop count is an error, an unresolved ramp time or delay is
// a warning and counts as 0 (JMeter reads a non-number as 0). A sampler field that uses a
// variable nothing defines is an error.
//
// Threads: call from one thread before the run.
#include <string>
#include <string_view>

#include "sluice/loadgen/plan.hpp"
#include "sluice/loadgen/test_definition.hpp"

namespace sluice::loadgen::jmx {

// Compiles the plan file ctx.plan_path. Throws core::ConfigError.
Plan compile_jmx_plan(const PlanContext& ctx);

// Compiles plan text; `source` names it in messages; CSV files are looked up from ctx.base_dir.
// Throws core::ConfigError.
Plan compile_jmx_text(std::string_view xml, const std::string& source, const PlanContext& ctx);

}  // namespace sluice::loadgen::jmx
