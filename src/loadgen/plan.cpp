#include "sluice/loadgen/plan.hpp"

#include <functional>
#include <set>

namespace sluice::loadgen {
namespace {

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

template <class F>
void for_each_sampler(const std::vector<Step>& steps, F&& f) {
  for (const auto& step : steps) {
    if (auto* s = std::get_if<HttpSampler>(&step.node)) {
      f(*s);
    } else if (auto* o = std::get_if<OnceOnly>(&step.node)) {
      for_each_sampler(o->steps, f);
    } else if (auto* l = std::get_if<Loop>(&step.node)) {
      for_each_sampler(l->steps, f);
    }
  }
}

template <class F>
void for_each_header_list(const std::vector<Step>& steps, F&& f) {
  for (const auto& step : steps) {
    if (auto* o = std::get_if<OnceOnly>(&step.node)) {
      f(o->headers);
      for_each_header_list(o->steps, f);
    } else if (auto* l = std::get_if<Loop>(&step.node)) {
      f(l->headers);
      for_each_header_list(l->steps, f);
    }
  }
}

}  // namespace

core::Result<void> validate_plan(const Plan& plan) {
  if (plan.groups.empty()) return invalid("the plan has no thread group");
  for (const auto& g : plan.groups) {
    std::string where = "thread group \"" + g.name + "\"";
    if (g.steps.empty()) return invalid(where + " has no steps");
    if (auto* c = std::get_if<ClosedLoad>(&g.load)) {
      if (c->vus < 1 && c->total_vus == 0) {
        return invalid(where + ": virtual users must be at least 1");
      }
      if (c->loops == 0 || c->loops < -1)
        return invalid(where + ": loops must be >= 1 or -1 (forever)");
      if (c->loops == -1 && !c->duration && plan.max_duration.count() == 0) {
        return invalid(where + ": infinite loops need a duration");
      }
      if (c->ramp_up.count() < 0) return invalid(where + ": negative ramp-up");
    } else {
      const auto& o = std::get<OpenLoad>(g.load);
      if (!(o.rate_per_second > 0)) return invalid(where + ": arrival rate must be positive");
      if (o.max_concurrency < 1) return invalid(where + ": max concurrency must be at least 1");
      if (o.duration.count() <= 0)
        return invalid(where + ": an arrival-rate group needs a duration");
    }
    std::string problem;
    for_each_sampler(g.steps, [&](const HttpSampler& s) {
      if (!problem.empty()) return;
      if (s.label.empty()) problem = where + ": a sampler has no label";
      if (s.url.source().empty()) problem = where + ": sampler \"" + s.label + "\" has no URL";
      if (s.timeout.count() <= 0) problem = where + ": sampler \"" + s.label + "\" has no timeout";
    });
    if (!problem.empty()) return invalid(problem);
  }
  return {};
}

std::vector<std::string> check_variables(const Plan& plan,
                                         const std::vector<std::string>& columns) {
  std::set<std::string, std::less<>> defined(columns.begin(), columns.end());
  for (const auto& [k, v] : plan.variables) defined.insert(k);
  for (const auto& [k, v] : plan.secrets) defined.insert(k);
  for (const auto& g : plan.groups) {
    for_each_sampler(g.steps, [&](const HttpSampler& s) {
      for (const auto& e : s.extractors) defined.insert(e.variable);
    });
  }
  std::vector<std::string> problems;
  auto check = [&](const Template& t, const std::string& where) {
    for (const auto& name : t.variables()) {
      if (defined.contains(name)) continue;
      defined.insert(name);  // one report per name: its first use
      problems.push_back(where + " uses ${" + name +
                         "}, which is not defined (not a data set column, test variable, secret "
                         "or extracted value)");
    }
  };
  for (const auto& g : plan.groups) {
    for (const auto& h : g.headers)
      check(h.value, "header " + h.name + " of group \"" + g.name + "\"");
    for_each_header_list(g.steps, [&](const std::vector<Header>& headers) {
      for (const auto& h : headers) check(h.value, "header " + h.name);
    });
    for_each_sampler(g.steps, [&](const HttpSampler& s) {
      std::string where = "sampler \"" + s.label + "\"";
      check(s.url, where + " URL");
      check(s.body, where + " body");
      for (const auto& h : s.headers) check(h.value, where + " header " + h.name);
      for (const auto& [name, value] : s.form) check(value, where + " form field " + name);
    });
  }
  return problems;
}

void slice_plan_for_engine(Plan& plan, int engine_index, int engine_count) {
  if (engine_count <= 1) return;
  for (auto& g : plan.groups) {
    if (auto* c = std::get_if<ClosedLoad>(&g.load)) {
      int total = c->vus;
      c->total_vus = total;
      c->engine_offset = engine_index;
      c->engine_stride = engine_count;
      c->vus = total / engine_count + (engine_index < total % engine_count ? 1 : 0);
    } else {
      auto& o = std::get<OpenLoad>(g.load);
      o.rate_per_second /= engine_count;
      int total = o.max_concurrency;
      o.max_concurrency =
          std::max(1, total / engine_count + (engine_index < total % engine_count ? 1 : 0));
    }
  }
  for (auto& d : plan.data_sets) {
    (void)d;  // rows are split when loaded (load_data_sets), per spec.split_across_engines
  }
}

}  // namespace sluice::loadgen
