// The HTML report: one file, inline CSS and JS, charts drawn on <canvas> from data embedded as
// JSON, so it opens anywhere with no network (CI artefacts, air-gapped hosts).
#include <cmath>
#include <cstdio>
#include <map>

#include <boost/json.hpp>

#include "sluice/loadgen/run_report.hpp"

namespace sluice::loadgen {
namespace json = boost::json;
namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside <script>: "</" must not appear.
std::string script_safe(std::string s) {
  for (auto pos = s.find("</"); pos != std::string::npos; pos = s.find("</", pos)) {
    s.replace(pos, 2, "<\\/");
  }
  return s;
}

json::value pct_or_null(const core::Histogram& h, double q) {
  if (h.count() == 0) return nullptr;
  return static_cast<double>(h.percentile(q)) / 1000.0;
}

bool is_counter(std::string_view metric) {
  auto name = metric.substr(0, metric.find('{'));
  return name.ends_with("_total") || name.ends_with("_count") || name.ends_with("_sum");
}

constexpr const char* kStyle = R"CSS(
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header .sub{opacity:.75;font-size:13px}.verdict{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;margin-left:8px}
.pass{background:#2e7d32;color:#fff}.fail{background:#c62828;color:#fff}
main{padding:16px 24px;max-width:1400px}section{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e4e6eb;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f0f2f5}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.chart{background:#fff;border-radius:8px;padding:8px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}.chart h3{font-size:14px;margin:2px 0 6px}
canvas{width:100%;height:240px;display:block}.bad{color:#c62828;font-weight:600}.good{color:#2e7d32}
)CSS";

constexpr const char* kScript = R"JS(
(function(){
var D=JSON.parse(document.getElementById('report-data').textContent);
var colors=['#1565c0','#ef6c00','#2e7d32','#c62828','#6a1b9a','#00838f','#ad1457','#4e342e'];
function fmt(v){if(v===null||v===undefined||isNaN(v))return '';var a=Math.abs(v);
 if(a>=1e6)return (v/1e6).toFixed(1)+'M';if(a>=1e4)return (v/1e3).toFixed(0)+'k';if(a>=100)return v.toFixed(0);if(a>=1)return v.toFixed(1);return v.toFixed(2);}
function draw(canvas,xs,series){
 var dpr=window.devicePixelRatio||1,w=canvas.clientWidth||600,h=canvas.clientHeight||240;
 canvas.width=w*dpr;canvas.height=h*dpr;var g=canvas.getContext('2d');g.scale(dpr,dpr);
 var L=52,R=10,T=22,B=26,pw=w-L-R,ph=h-T-B;var ymax=0,xmax=0;
 for(var i=0;i<xs.length;i++)xmax=Math.max(xmax,xs[i]);
 series.forEach(function(s){s.y.forEach(function(v){if(v!==null&&v>ymax)ymax=v;});});
 if(ymax<=0)ymax=1;ymax*=1.1;if(xmax<=0)xmax=1;
 g.fillStyle='#fff';g.fillRect(0,0,w,h);g.strokeStyle='#e4e6eb';g.fillStyle='#555';g.font='11px sans-serif';g.lineWidth=1;
 for(var k=0;k<=4;k++){var y=T+ph-ph*k/4;g.beginPath();g.moveTo(L,y);g.lineTo(L+pw,y);g.stroke();g.textAlign='right';g.fillText(fmt(ymax*k/4),L-4,y+4);}
 for(var k2=0;k2<=5;k2++){var x=L+pw*k2/5;g.textAlign='center';g.fillText(fmt(xmax*k2/5)+'s',x,h-8);}
 series.forEach(function(s,si){g.strokeStyle=colors[si%colors.length];g.lineWidth=1.6;g.beginPath();var pen=false;
  for(var i=0;i<xs.length;i++){var v=s.y[i];if(v===null||v===undefined){pen=false;continue;}
   var px=L+pw*xs[i]/xmax,py=T+ph-ph*v/ymax;if(!pen){g.moveTo(px,py);pen=true;}else g.lineTo(px,py);}
  g.stroke();});
 var lx=L;series.forEach(function(s,si){g.fillStyle=colors[si%colors.length];g.fillRect(lx,6,10,10);g.fillStyle='#333';g.textAlign='left';
  g.fillText(s.name,lx+14,15);lx+=g.measureText(s.name).width+30;});
 return true;}
var rendered=0;var grid=document.getElementById('charts');
var pending=[];
function chart(title,xs,series){var box=document.createElement('div');box.className='chart';
 var h=document.createElement('h3');h.textContent=title;box.appendChild(h);var c=document.createElement('canvas');box.appendChild(c);grid.appendChild(box);
 pending.push([c,xs,series]);}
var t=D.timeline;
chart('Throughput (requests/s)',t.t,[{name:'requests/s',y:t.rps},{name:'errors/s',y:t.errors},{name:'throttled/s',y:t.throttled}]);
chart('Response time percentiles (ms)',t.t,[{name:'p50',y:t.e2e_p50},{name:'p95',y:t.e2e_p95},{name:'p99',y:t.e2e_p99}]);
chart('Time to first token (ms)',t.t,[{name:'p50',y:t.ttft_p50},{name:'p95',y:t.ttft_p95},{name:'p99',y:t.ttft_p99}]);
chart('Tokens per minute',t.t,[{name:'prompt+completion',y:t.tokens_per_min},{name:'completion',y:t.completion_per_min}]);
chart('Virtual users',t.t,[{name:'active VUs',y:t.vus}]);
var groups={};D.server.forEach(function(s){var k=s.target;(groups[k]=groups[k]||[]).push(s);});
Object.keys(groups).forEach(function(k){var list=groups[k];for(var i=0;i<list.length;i+=6){
 var part=list.slice(i,i+6);var xs=[];part.forEach(function(s){s.t.forEach(function(x){if(xs.indexOf(x)<0)xs.push(x);});});xs.sort(function(a,b){return a-b;});
 var series=part.map(function(s){var m={};s.t.forEach(function(x,j){m[x]=s.v[j];});return {name:s.metric+(s.rate?' /s':''),y:xs.map(function(x){return x in m?m[x]:null;})};});
 chart('Server: '+k+(list.length>6?' ('+(i/6+1)+')':''),xs,series);}});
// Draw once every box is in the grid, so each canvas has its final width.
pending.forEach(function(p){if(draw(p[0],p[1],p[2]))rendered++;});
var done=document.createElement('div');done.id='charts-rendered';done.textContent=String(rendered);done.style.display='none';document.body.appendChild(done);
})();
)JS";

}  // namespace

std::string render_html_report(const RunReport& r) {
  // Per-second series, seconds since the start of the run.
  json::object tl;
  json::array t, rps, errors, throttled, vus, e50, e95, e99, f50, f95, f99, tpm, cpm;
  std::int64_t first = r.started_at_ms / 1000;
  for (const auto& [second, s] : r.results.timeline) {
    t.push_back(second - first);
    rps.push_back(s.requests);
    errors.push_back(s.errors);
    throttled.push_back(s.throttled);
    vus.push_back(s.vus);
    e50.push_back(pct_or_null(s.e2e, 50));
    e95.push_back(pct_or_null(s.e2e, 95));
    e99.push_back(pct_or_null(s.e2e, 99));
    f50.push_back(pct_or_null(s.ttft, 50));
    f95.push_back(pct_or_null(s.ttft, 95));
    f99.push_back(pct_or_null(s.ttft, 99));
    tpm.push_back((s.prompt_tokens + s.completion_tokens) * 60);
    cpm.push_back(s.completion_tokens * 60);
  }
  tl["t"] = t;
  tl["rps"] = rps;
  tl["errors"] = errors;
  tl["throttled"] = throttled;
  tl["vus"] = vus;
  tl["e2e_p50"] = e50;
  tl["e2e_p95"] = e95;
  tl["e2e_p99"] = e99;
  tl["ttft_p50"] = f50;
  tl["ttft_p95"] = f95;
  tl["ttft_p99"] = f99;
  tl["tokens_per_min"] = tpm;
  tl["completion_per_min"] = cpm;
  json::array server;
  for (const auto& series : r.server_metrics) {
    json::object s;
    s["target"] = series.target;
    s["metric"] = series.metric;
    bool rate = is_counter(series.metric);
    s["rate"] = rate;
    json::array xs, ys;
    for (std::size_t i = 0; i < series.points.size(); ++i) {
      double x = static_cast<double>(series.points[i].first - r.started_at_ms) / 1000.0;
      if (rate) {
        if (i == 0) continue;
        double dt =
            static_cast<double>(series.points[i].first - series.points[i - 1].first) / 1000.0;
        if (dt <= 0) continue;
        xs.push_back(std::round(x * 10) / 10);
        ys.push_back(std::max(0.0, (series.points[i].second - series.points[i - 1].second) / dt));
      } else {
        xs.push_back(std::round(x * 10) / 10);
        ys.push_back(series.points[i].second);
      }
    }
    s["t"] = xs;
    s["v"] = ys;
    server.push_back(std::move(s));
  }
  json::object data;
  data["timeline"] = std::move(tl);
  data["server"] = std::move(server);

  std::string out;
  out.reserve(64 * 1024);
  out += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  out += html_escape(r.display_name.empty() ? r.test_id : r.display_name);
  out += " - sluice load report</title><style>";
  out += kStyle;
  out += "</style></head><body><header><h1>";
  out += html_escape(r.display_name.empty() ? r.test_id : r.display_name);
  out += r.passed() ? "<span class=\"verdict pass\">PASSED</span>"
                    : "<span class=\"verdict fail\">FAILED</span>";
  out += "</h1><div class=\"sub\">";
  char buf[512];
  std::snprintf(buf, sizeof buf, "test %s · %.1f s · up to %llu VUs · %d engine%s",
                html_escape(r.test_id).c_str(), r.duration_s(),
                static_cast<unsigned long long>(r.max_vus), r.engines_merged,
                r.engines_merged == 1 ? "" : "s");
  out += buf;
  if (!r.description.empty()) out += " · " + html_escape(r.description);
  if (!r.stop_reason.empty()) out += " · stopped: " + html_escape(r.stop_reason);
  out += "</div></header><main>";

  // Summary table.
  out +=
      "<section><h2>Summary</h2><table><tr><th>label</th><th>requests</th><th>errors</"
      "th><th>throttled</th>"
      "<th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>TTFB p95</th><th>TTFT "
      "p50</th>"
      "<th>TTFT p95</th><th>ITL p95</th><th>tok/s/req p50</th><th>prompt tok</th><th>completion "
      "tok</th></tr>";
  double d = r.duration_s();
  auto cell = [](const core::Histogram& h, double q) {
    if (!h.count()) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", static_cast<double>(h.percentile(q)) / 1000.0);
    return std::string(b);
  };
  auto row = [&](const std::string& name, const Stats& s) {
    std::snprintf(
        buf, sizeof buf,
        "<tr><td>%s</td><td>%llu</td><td class=\"%s\">%llu</td><td>%llu</td><td>%.2f</td>",
        html_escape(name).c_str(), static_cast<unsigned long long>(s.requests),
        s.errors ? "bad" : "", static_cast<unsigned long long>(s.errors),
        static_cast<unsigned long long>(s.throttled),
        d > 0 ? static_cast<double>(s.requests) / d : 0.0);
    out += buf;
    out += "<td>" + cell(s.e2e, 50) + "</td><td>" + cell(s.e2e, 95) + "</td><td>" +
           cell(s.e2e, 99) + "</td><td>" + cell(s.ttfb, 95) + "</td><td>" + cell(s.ttft, 50) +
           "</td><td>" + cell(s.ttft, 95) + "</td><td>" + cell(s.itl, 95) + "</td><td>" +
           cell(s.tokens_per_sec, 50) + "</td><td>" + std::to_string(s.prompt_tokens) +
           "</td><td>" + std::to_string(s.completion_tokens) + "</td></tr>";
  };
  for (const auto& [label, s] : r.results.labels) row(label, s);
  row("TOTAL", r.results.total);
  out += "</table>";
  if (r.results.connect_failures) {
    out += "<p class=\"bad\">" + html_escape(connect_failure_note(r.results)) + "</p>";
  }
  if (r.results.dropped_iterations) {
    out += "<p class=\"bad\">Dropped iterations: " + std::to_string(r.results.dropped_iterations) +
           "</p>";
  }
  out += "</section>";

  // Criteria.
  out += "<section><h2>Failure criteria</h2>";
  if (r.criteria.empty()) {
    out += "<p>No failure criteria.</p>";
  } else {
    out += "<table><tr><th>criterion</th><th>actual</th><th>result</th></tr>";
    for (const auto& o : r.outcomes) {
      std::string actual = "no data";
      if (o.actual) {
        std::snprintf(buf, sizeof buf, "%.2f", *o.actual);
        actual = buf;
      }
      out +=
          "<tr><td>" + html_escape(o.criterion.text) + "</td><td>" + actual + "</td><td class=\"" +
          (o.failed ? "bad\">failed" : (o.actual ? "good\">passed" : "\">no data")) + "</td></tr>";
    }
    out += "</table>";
  }
  out += "</section>";

  out += "<div class=\"grid\" id=\"charts\"></div>";
  out += "</main><script type=\"application/json\" id=\"report-data\">";
  out += script_safe(json::serialize(data));
  out += "</script><script>";
  out += kScript;
  out += "</script></body></html>\n";
  return out;
}

}  // namespace sluice::loadgen
