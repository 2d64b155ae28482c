// The console's page: structure only. Everything dynamic is filled in by console.js with
// textContent (never innerHTML), so a prompt or an app name can never become markup.
#include "gateway/console/console_assets.hpp"

namespace sluice::gateway::console {

const std::string_view kConsoleHtml = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice console</title>
<link rel="stylesheet" href="/console/console.css">
<script src="/console/console.js" defer></script>
</head>
<body>
<header>
  <h1>sluice <span class="sub">operator console</span></h1>
  <nav id="tabs">
    <button type="button" data-tab="backends">Backends</button>
    <button type="button" data-tab="traffic">Traffic</button>
    <button type="button" data-tab="chargeback">Chargeback</button>
    <button type="button" data-tab="prompts">Prompt log</button>
    <button type="button" data-tab="config">Config</button>
  </nav>
  <span id="status" class="status"></span>
</header>
<main>
  <section id="login" hidden>
    <h2>Admin credential</h2>
    <p>The console reads admin data only with the admin API key or an Entra token carrying the
      admin role (<code>console.access</code> in the gateway config).</p>
    <form id="login-form">
      <input id="login-key" type="password" autocomplete="off" placeholder="admin key or bearer token">
      <button type="submit">Open</button>
    </form>
    <p id="login-error" class="error"></p>
  </section>

  <section id="tab-backends" class="tab" hidden>
    <h2>Backends <span class="hint">live, every 2 s; recent = last 5 minutes</span></h2>
    <table id="backends-table">
      <thead><tr><th>Backend</th><th>Health</th><th>Breaker (pool)</th><th>Why</th>
        <th>In flight</th><th>Attempts</th><th>Failures</th><th>429 total</th>
        <th>Recent 429</th><th>Recent 5xx</th><th>Recent failovers</th><th>Utilisation</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="tab-traffic" class="tab" hidden>
    <h2>Traffic <span class="hint">per minute, last hour, from the usage records</span></h2>
    <p class="totals">Requests in the hour: <b id="traffic-requests">0</b> · tokens: <b id="traffic-tokens">0</b></p>
    <div class="charts">
      <figure><figcaption>Tokens/min per app</figcaption><div id="chart-app-tokens" class="chart"></div></figure>
      <figure><figcaption>Requests/min per app</figcaption><div id="chart-app-requests" class="chart"></div></figure>
      <figure><figcaption>Tokens/min per deployment</figcaption><div id="chart-deployment-tokens" class="chart"></div></figure>
      <figure><figcaption>Requests/min per deployment</figcaption><div id="chart-deployment-requests" class="chart"></div></figure>
    </div>
    <table id="traffic-table">
      <thead><tr><th>App</th><th>Requests (hour)</th><th>Tokens (hour)</th><th>Errors (hour)</th></tr></thead>
      <tbody></tbody>
    </table>
    <h2>Token-limit headroom <span class="hint">per limit and counter key, this gateway's counters</span></h2>
    <table id="headroom-table">
      <thead><tr><th>Limit</th><th>Key</th><th>Tokens/min</th><th>Used this minute</th><th>Remaining</th>
        <th>Quota</th><th>Quota used</th><th>Quota remaining</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="headroom-note" class="hint"></p>
  </section>

  <section id="tab-chargeback" class="tab" hidden>
    <h2>Chargeback <span class="hint">the usage store, as <code>sluice usage report</code>; times in UTC</span></h2>
    <form id="chargeback-form" class="filters">
      <label>Period <select id="chargeback-since">
        <option value="1h">last hour</option><option value="24h" selected>last 24 hours</option>
        <option value="7d">last 7 days</option><option value="30d">last 30 days</option>
        <option value="range">from – until</option></select></label>
      <label title="UTC; empty: from the first record">From <input id="chargeback-from" type="datetime-local"></label>
      <label title="UTC; empty: until now">Until <input id="chargeback-until" type="datetime-local"></label>
      <label>Group by <input id="chargeback-by" value="app,deployment,backend"></label>
      <button type="submit">Show</button>
      <button type="button" id="chargeback-csv">Download CSV</button>
    </form>
    <table id="chargeback-table"><thead></thead><tbody></tbody><tfoot></tfoot></table>
    <p id="chargeback-note" class="hint"></p>
  </section>

  <section id="tab-prompts" class="tab" hidden>
    <h2>Prompt log <span class="hint">sampled and redacted by the prompt_log policy</span></h2>
    <form id="prompts-form" class="filters">
      <label>App <input id="prompts-app" placeholder="any"></label>
      <label>Since <select id="prompts-since">
        <option value="15m">15 minutes</option><option value="1h">1 hour</option>
        <option value="24h" selected>24 hours</option><option value="7d">7 days</option></select></label>
      <label>Text <input id="prompts-text" placeholder="contains"></label>
      <button type="submit">Search</button>
    </form>
    <table id="prompts-table">
      <thead><tr><th>Time</th><th>App</th><th>Deployment</th><th>Status</th><th>Prompt</th><th>Response</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="prompts-note" class="hint"></p>
  </section>

  <section id="tab-config" class="tab" hidden>
    <h2>Configuration <span class="hint">as running, secrets masked</span></h2>
    <dl class="facts">
      <dt>File</dt><dd id="config-source"></dd>
      <dt>Loaded</dt><dd id="config-loaded"></dd>
      <dt>Last reload</dt><dd id="config-reload"></dd>
    </dl>
    <pre id="config-text"></pre>
  </section>
</main>
</body>
</html>
)HTML";

}  // namespace sluice::gateway::console
