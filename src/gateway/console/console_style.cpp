// The console's style sheet (served as /console/console.css; the CSP allows no inline style).
#include "gateway/console/console_assets.hpp"

namespace sluice::gateway::console {

const std::string_view kConsoleStyle = R"CSS(
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:24px;flex-wrap:wrap}
header h1{margin:0;font-size:20px}header .sub{opacity:.7;font-size:13px;font-weight:400}
nav button{background:none;border:0;color:#cfd6e4;font:inherit;padding:6px 12px;border-radius:6px;cursor:pointer}
nav button.active{background:#3b4a6b;color:#fff}
.status{margin-left:auto;font-size:12px;opacity:.8}
main{padding:16px 24px}
h2{font-size:17px;margin:4px 0 12px}.hint{font-size:12px;color:#6b7385;font-weight:400}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08);margin-bottom:16px;min-width:50%}
th,td{padding:6px 10px;border-bottom:1px solid #e6e8ee;text-align:left;vertical-align:top}
th{background:#eef0f5;font-weight:600;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;background:#f3f4f8}
.pill{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;font-weight:600}
.ok{background:#d7f0dc;color:#1e6b30}.warn{background:#fff0c2;color:#7a5a00}.bad{background:#fbd5d5;color:#a12020}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:12px}
figure{margin:0;background:#fff;padding:8px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figcaption{font-weight:600;font-size:13px;margin-bottom:4px}
.chart svg{width:100%;height:200px}.chart .axis{stroke:#9aa1b1;stroke-width:1}
.chart .grid{stroke:#eceef3;stroke-width:1}.chart text{font-size:10px;fill:#6b7385}
.chart .line{fill:none;stroke-width:2}
.legend{font-size:12px;display:flex;flex-wrap:wrap;gap:10px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.filters{display:flex;gap:12px;align-items:center;margin-bottom:12px;flex-wrap:wrap}
input,select{font:inherit;padding:4px 6px}
pre{background:#fff;padding:12px;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow:auto;font-size:12px}
td.text{max-width:420px;white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;font-size:12px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}.facts dt{font-weight:600}.facts dd{margin:0}
.error{color:#a12020}
.c0{stroke:#3366cc;background:#3366cc}.c1{stroke:#dc3912;background:#dc3912}.c2{stroke:#109618;background:#109618}
.c3{stroke:#ff9900;background:#ff9900}.c4{stroke:#990099;background:#990099}.c5{stroke:#0099c6;background:#0099c6}
)CSS";

}  // namespace sluice::gateway::console
