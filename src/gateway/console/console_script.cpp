// The console's script (served as /console/console.js). Plain browser JavaScript, no libraries.
// Every value from the API reaches the page through textContent or an SVG attribute, never
// innerHTML: prompts, app names and error messages are user text.
#include "gateway/console/console_assets.hpp"

namespace sluice::gateway::console {

const std::string_view kConsoleScript = R"JS('use strict';
(function () {
  const KEY_STORE = 'sluice-console-credential';
  const TABS = ['backends', 'traffic', 'chargeback', 'prompts', 'config'];
  const POLL_MS = {backends: 2000, traffic: 5000};
  let credential = sessionStorage.getItem(KEY_STORE) || '';
  let active = 'backends';
  let timer = null;

  // A credential may arrive in the fragment (#key=...&tab=...), which browsers never send to the
  // server; it moves to sessionStorage and leaves the address bar at once.
  function readFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    if (params.get('key')) {
      credential = params.get('key');
      sessionStorage.setItem(KEY_STORE, credential);
    }
    if (TABS.includes(params.get('tab'))) active = params.get('tab');
    // A link may name a chargeback period: #tab=chargeback&from=2026-12-04T10:00&until=...
    for (const end of ['from', 'until']) {
      if (params.get(end)) {
        document.getElementById('chargeback-' + end).value = params.get(end);
        chooseRange();
      }
    }
    if (params.get('since')) document.getElementById('chargeback-since').value = params.get('since');
    if (location.hash) history.replaceState(null, '', location.pathname + '#tab=' + active);
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function num(value) { return el('td', Number(value || 0).toLocaleString('en-US'), 'num'); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function setStatus(text) { document.getElementById('status').textContent = text; }
  function time(ms) { return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'); }

  class Unauthorized extends Error {}

  async function api(path) {
    const response = await fetch('/console/api/' + path, {
      headers: credential ? {'Authorization': 'Bearer ' + credential} : {},
      cache: 'no-store',
    });
    if (response.status === 401 || response.status === 403) {
      let message = 'credential refused';
      try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Unauthorized(message);
    }
    return response;
  }
  async function apiJson(path) {
    const response = await api(path);
    const body = await response.json();
    if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
    return body;
  }

  function showLogin(message) {
    document.getElementById('login').hidden = false;
    document.getElementById('login-error').textContent = message || '';
    for (const t of TABS) document.getElementById('tab-' + t).hidden = true;
    setStatus('not signed in');
  }

  // --- Backends
  function breakerPill(state) {
    const cls = state === 'closed' ? 'ok' : state === 'half-open' ? 'warn' : 'bad';
    return el('span', state, 'pill ' + cls);
  }
  async function loadBackends() {
    const body = await apiJson('backends');
    const tbody = document.querySelector('#backends-table tbody');
    clear(tbody);
    for (const b of body.backends) {
      const tr = el('tr');
      tr.dataset.backend = b.name;
      tr.appendChild(el('td', b.name));
      const up = b.pools.length === 0 || b.pools.some((p) => p.available);
      const health = el('td');
      health.appendChild(el('span', up ? 'up' : 'down', 'pill ' + (up ? 'ok' : 'bad')));
      tr.appendChild(health);
      const breaker = el('td');
      for (const p of b.pools) {
        breaker.appendChild(breakerPill(p.breaker));
        breaker.appendChild(document.createTextNode(' ' + p.pool + ' '));
      }
      tr.appendChild(breaker);
      const why = [];
      for (const p of b.pools) {
        if (p.breaker !== 'closed') why.push(p.pool + ': open ' + Math.ceil((p.open_for_ms || 0) / 1000) + ' s more');
        if (p.breaker_trips) why.push(p.breaker_trips + ' trip(s)');
      }
      if (b.last_error) why.push(b.last_error);
      tr.appendChild(el('td', why.join('; '), 'text'));
      const cells = [['in_flight', b.in_flight], ['requests', b.requests], ['failures', b.failures],
        ['throttled', b.throttled], ['recent_throttled', b.recent.throttled],
        ['recent_server_errors', b.recent.server_errors], ['recent_failovers', b.recent.failovers]];
      for (const [field, value] of cells) {
        const td = num(value);
        td.dataset.field = field;
        tr.appendChild(td);
      }
      // The figure a provisioned deployment last sent (azure-openai-deployment-utilization) and
      // how old it is; null when it never sent one or not within the last minute.
      const u = b.utilization;
      const utilization = u === null ? el('td', 'not reported')
        : el('td', u.percent.toFixed(1) + ' % (' + Math.round(u.age_ms / 1000) + ' s ago)', 'num');
      utilization.dataset.field = 'utilization';
      if (u !== null) utilization.dataset.percent = String(u.percent);
      tr.appendChild(utilization);
      tbody.appendChild(tr);
    }
    document.body.dataset.backendsRendered = String(body.backends.length);
  }

  // --- Traffic: one SVG line chart per dimension and measure.
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }
  function drawChart(container, minutes, series, measure) {
    clear(container);
    const W = 600, H = 200, L = 48, R = 8, T = 8, B = 22;
    const names = Object.keys(series);
    let max = 1, total = 0;
    for (const n of names) for (const v of series[n][measure]) { max = Math.max(max, v); total += v; }
    const chart = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img'});
    const x = (i) => L + (W - L - R) * (minutes.length < 2 ? 0 : i / (minutes.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    for (let g = 0; g <= 4; g++) {
      const v = max * g / 4;
      chart.appendChild(svg('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid'}));
      const label = svg('text', {x: L - 4, y: y(v) + 3, 'text-anchor': 'end'});
      label.textContent = Math.round(v).toLocaleString('en-US');
      chart.appendChild(label);
    }
    chart.appendChild(svg('line', {x1: L, x2: L, y1: T, y2: H - B, class: 'axis'}));
    chart.appendChild(svg('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis'}));
    const last = minutes.length - 1;
    for (const i of [0, Math.floor(last / 2), last]) {
      const anchor = i === 0 ? 'start' : i === last ? 'end' : 'middle';
      const label = svg('text', {x: x(i), y: H - 6, 'text-anchor': anchor});
      label.textContent = new Date(minutes[i] * 60000).toISOString().substr(11, 5);
      chart.appendChild(label);
    }
    names.forEach((n, k) => {
      const points = series[n][measure].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      const line = svg('polyline', {points: points.join(' '), class: 'line c' + (k % 6)});
      const title = svg('title', {});
      title.textContent = n;
      line.appendChild(title);
      chart.appendChild(line);
    });
    container.appendChild(chart);
    const legend = el('div', null, 'legend');
    names.forEach((n, k) => {
      const item = el('span');
      item.appendChild(el('i', null, 'c' + (k % 6)));
      item.appendChild(document.createTextNode(n));
      legend.appendChild(item);
    });
    container.appendChild(legend);
    container.dataset.total = String(total);
    container.dataset.series = String(names.length);
  }
  async function loadTraffic() {
    const body = await apiJson('traffic');
    document.getElementById('traffic-requests').textContent = body.total_requests.toLocaleString('en-US');
    document.getElementById('traffic-tokens').textContent = body.total_tokens.toLocaleString('en-US');
    drawChart(document.getElementById('chart-app-tokens'), body.minutes, body.apps, 'tokens');
    drawChart(document.getElementById('chart-app-requests'), body.minutes, body.apps, 'requests');
    drawChart(document.getElementById('chart-deployment-tokens'), body.minutes, body.deployments, 'tokens');
    drawChart(document.getElementById('chart-deployment-requests'), body.minutes, body.deployments, 'requests');
    const tbody = document.querySelector('#traffic-table tbody');
    clear(tbody);
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    for (const [app, s] of Object.entries(body.apps)) {
      const tr = el('tr');
      tr.dataset.app = app;
      tr.appendChild(el('td', app));
      for (const [field, value] of [['requests', sum(s.requests)], ['tokens', sum(s.tokens)], ['errors', sum(s.errors)]]) {
        const td = num(value);
        td.dataset.field = field;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    const limits = document.querySelector('#headroom-table tbody');
    clear(limits);
    const orDash = (v) => (v === null || v === undefined ? '—' : v);
    for (const h of body.limits) {
      const tr = el('tr');
      tr.dataset.limit = h.limit + '|' + h.key;
      tr.appendChild(el('td', h.limit));
      tr.appendChild(el('td', h.key));
      for (const [field, value] of [['tokens_per_minute', h.tokens_per_minute || '—'],
        ['used_this_minute', h.used_this_minute], ['remaining_this_minute', orDash(h.remaining_this_minute)],
        ['token_quota', h.token_quota || '—'], ['quota_used', h.quota_used], ['quota_remaining', orDash(h.quota_remaining)]]) {
        const td = typeof value === 'number' ? num(value) : el('td', value, 'num');
        td.dataset.field = field;
        tr.appendChild(td);
      }
      limits.appendChild(tr);
    }
    document.getElementById('headroom-note').textContent = body.limits.length
      ? '' : 'no counters: no token_limit policy with store: local, or no traffic yet';
    document.body.dataset.trafficRendered = String(Object.keys(body.apps).length);
  }

  // --- Chargeback
  // A preset (since=24h) or the from-until range of the two datetime-local inputs, which the
  // gateway reads as UTC (the page shows every time in UTC).
  function chargebackQuery() {
    const params = new URLSearchParams({by: document.getElementById('chargeback-by').value});
    const period = document.getElementById('chargeback-since').value;
    if (period === 'range') {
      for (const end of ['from', 'until']) {
        const value = document.getElementById('chargeback-' + end).value;
        if (value) params.set(end, value);
      }
    } else {
      params.set('since', period);
    }
    return params.toString();
  }
  function chooseRange() { document.getElementById('chargeback-since').value = 'range'; }
  async function loadChargeback() {
    const body = await apiJson('chargeback?' + chargebackQuery());
    const table = document.getElementById('chargeback-table');
    const columns = body.columns.concat(['requests', 'prompt_tokens', 'completion_tokens',
      'total_tokens', 'share', 'cache_hits', 'tokens_saved']).concat(body.priced ? ['cost'] : []);
    const head = table.querySelector('thead');
    clear(head);
    const hr = el('tr');
    for (const c of columns) hr.appendChild(el('th', c));
    head.appendChild(hr);
    const cell = (row, c) => {
      if (body.columns.includes(c)) return el('td', row[c]);
      if (c === 'share') return el('td', (100 * row.share).toFixed(1) + ' %', 'num');
      if (c === 'cost') return el('td', row.cost.toFixed(4) + ' ' + body.currency, 'num');
      return num(row[c]);
    };
    const tbody = table.querySelector('tbody');
    clear(tbody);
    for (const row of body.rows) {
      const tr = el('tr');
      tr.dataset.key = body.columns.map((c) => row[c]).join('|');
      for (const c of columns) {
        const td = cell(row, c);
        td.dataset.field = c;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    const foot = table.querySelector('tfoot');
    clear(foot);
    const fr = el('tr');
    fr.dataset.key = 'total';
    for (const c of columns) {
      const td = body.columns.includes(c) ? el('td', c === body.columns[0] ? 'total' : '') : cell(body.total, c);
      td.dataset.field = c;
      fr.appendChild(td);
    }
    foot.appendChild(fr);
    const period = body.since ? 'since ' + body.since
      : 'from ' + (body.from || 'the first record') + ' until ' + (body.until || 'now');
    const notes = ['store: ' + body.store, period];
    if (body.unpriced_models && body.unpriced_models.length) notes.push('no price for: ' + body.unpriced_models.join(', '));
    if (!body.priced) notes.push('no price table configured (console.prices)');
    document.getElementById('chargeback-note').textContent = notes.join(' · ');
    document.body.dataset.chargebackRendered = String(body.rows.length);
  }
  async function downloadCsv() {
    const response = await api('chargeback?format=csv&' + chargebackQuery());
    const blob = await response.blob();
    const link = el('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'sluice-chargeback.csv';
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  // --- Prompt log
  async function loadPrompts() {
    const params = new URLSearchParams({
      app: document.getElementById('prompts-app').value,
      since: document.getElementById('prompts-since').value,
      q: document.getElementById('prompts-text').value,
      limit: '100',
    });
    const body = await apiJson('prompts?' + params.toString());
    const tbody = document.querySelector('#prompts-table tbody');
    clear(tbody);
    for (const e of body.entries) {
      const tr = el('tr');
      tr.dataset.requestId = e.request_id || '';
      tr.appendChild(el('td', time((e.started_at_us || 0) / 1000)));
      tr.appendChild(el('td', e.app_id));
      tr.appendChild(el('td', e.deployment));
      tr.appendChild(el('td', e.status, 'num'));
      const prompt = el('td', e.prompt, 'text');
      prompt.dataset.field = 'prompt';
      tr.appendChild(prompt);
      const reply = el('td', e.response, 'text');
      reply.dataset.field = 'response';
      tr.appendChild(reply);
      tbody.appendChild(tr);
    }
    document.getElementById('prompts-note').textContent = body.file
      ? body.entries.length + ' entries from ' + body.file
      : 'no prompt log file configured (prompt_log.file or console.prompt_log_file)';
    document.body.dataset.promptsRendered = String(body.entries.length);
  }

  // --- Config
  async function loadConfig() {
    const body = await apiJson('config');
    document.getElementById('config-source').textContent = body.source;
    document.getElementById('config-loaded').textContent = time(body.loaded_at_ms);
    const reload = body.last_reload;
    document.getElementById('config-reload').textContent = reload
      ? time(reload.at_ms) + (reload.ok ? ': applied' : ': refused, running config kept: ' + reload.error)
      : 'none since start';
    document.getElementById('config-text').textContent = JSON.stringify(body.config, null, 2);
    document.body.dataset.configRendered = '1';
  }

  const LOADERS = {backends: loadBackends, traffic: loadTraffic, chargeback: loadChargeback,
    prompts: loadPrompts, config: loadConfig};

  async function run(loader) {
    try {
      await loader();
      setStatus('updated ' + new Date().toLocaleTimeString());
      return true;
    } catch (e) {
      if (e instanceof Unauthorized) {
        showLogin(e.message);
        return false;
      }
      setStatus('error: ' + e.message);
      return true;
    }
  }

  function show(tab) {
    active = tab;
    document.getElementById('login').hidden = true;
    for (const t of TABS) document.getElementById('tab-' + t).hidden = t !== tab;
    for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
    history.replaceState(null, '', location.pathname + '#tab=' + tab);
    if (timer) clearInterval(timer);
    timer = null;
    if (POLL_MS[tab]) timer = setInterval(() => run(LOADERS[tab]), POLL_MS[tab]);
  }

  // Loads every view once (a link to any tab shows current data), then polls the live ones.
  async function start() {
    if (!credential) { showLogin(''); return; }
    show(active);
    for (const t of TABS) {
      if (!(await run(LOADERS[t]))) return;
    }
    document.body.dataset.ready = '1';
  }

  document.addEventListener('DOMContentLoaded', () => {
    readFragment();
    for (const b of document.querySelectorAll('#tabs button')) {
      b.addEventListener('click', () => { show(b.dataset.tab); run(LOADERS[b.dataset.tab]); });
    }
    document.getElementById('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      credential = document.getElementById('login-key').value.trim();
      sessionStorage.setItem(KEY_STORE, credential);
      start();
    });
    document.getElementById('chargeback-form').addEventListener('submit', (e) => { e.preventDefault(); run(loadChargeback); });
    document.getElementById('chargeback-csv').addEventListener('click', () => run(downloadCsv));
    for (const end of ['from', 'until']) {
      document.getElementById('chargeback-' + end).addEventListener('input', chooseRange);
    }
    document.getElementById('prompts-form').addEventListener('submit', (e) => { e.preventDefault(); run(loadPrompts); });
    start();
  });
})();
)JS";

}  // namespace sluice::gateway::console
