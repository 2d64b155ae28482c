// The operator console (docs/console.md): a sim + gateway with live load from the official openai
// client, the console's JSON API checked against /metrics and /admin/backends, and the page itself
// rendered in Debian's headless Chromium, whose tables and charts must show the same numbers.
// Also: no credential is a JSON 401 everywhere admin data lives, a prompt holding markup shows as
// text and never runs, secrets are masked in the config view, the provisioned deployment's
// utilisation header shows in the Backends tab as in the API and /metrics, and a chargeback
// from-until range bounds both ends in the API, the CSV and the page.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  apiKeyIdentityYaml, CHROMIUM, fetchWithTimeout, pollUntil, runChromium, startGateway, startSluice, tempDir, writeIn,
} from './helpers.mjs';

const GA = '2024-10-21';
const APPS = { 'app-a': 'key-for-a', 'app-b': 'key-for-b' };
const ADMIN_KEY = 'console-admin-key-0123456789';
const UPSTREAM_KEY = 'upstream-secret-key-42';
const XSS_PROMPT = '<script>alert(1)</script><img src=x onerror="document.title=\'pwned\'">';
const REQUESTS_PER_APP = 6;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
seed: 5
deployments:
  gpt-4o-ptu: {model: gpt-4o, provisioned: true, provisioned_tokens_per_minute: 600, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 12}
  gpt-4o-paygo: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 12}
auth:
  mode: keys
  api_keys: [{name: gateway, key: ${UPSTREAM_KEY}}]
faults:
  - {deployment: gpt-4o-ptu, error_rate: 0.5, status_codes: [429]}
`;

function gatewayConfig(simUrl, dir, { protect = false } = {}) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: ptu, url: ${simUrl}, type: azure, auth: {type: api-key, key: ${UPSTREAM_KEY}}, deployments: {gpt-4o: gpt-4o-ptu}}
  - {name: paygo, url: ${simUrl}, type: azure, auth: {type: api-key, key: ${UPSTREAM_KEY}}, deployments: {gpt-4o: gpt-4o-paygo}}
pools:
  - name: chat
    members: [{backend: ptu, priority: 1}, {backend: paygo, priority: 2}]
    breaker: {failures: 100000}
routes:
  - {name: chat, match: {deployments: [gpt-4o]}, pool: chat}
policies:
${apiKeyIdentityYaml(APPS)}
  usage: {journal: ${join(dir, 'journal')}, ship_interval: 50ms}
  metrics: {dimensions: [app, deployment, backend]}
  prompt_log: {sample_rate: 1.0, file: ${join(dir, 'prompts.jsonl')}}
  token_limit:
    limits: [{name: per-app, counter_key: app_id, tokens_per_minute: 1000000}]
console:
  access:
    api_keys: {keys: [{id: console-admin, key: ${ADMIN_KEY}, app_id: operator}]}
  prices: prices.yaml
  protect_admin_routes: ${protect}
`;
}

// The page's DOM after its script ran, opened with `fragment` (#key=...&tab=...).
function renderedDom(admin, fragment) {
  const dom = runChromium(['--virtual-time-budget=8000', '--dump-dom', `${admin}/${fragment}`]);
  assert.equal(dom.status, 0, dom.stderr);
  return dom;
}

// The text of the element whose opening tag matches `openTag` (a regex source), tags removed.
function cellText(html, openTag) {
  const m = html.match(new RegExp(`${openTag}[^>]*>([^<]*)<`));
  return m ? m[1] : undefined;
}
const number = (text) => Number(String(text).replace(/,/g, ''));

function metricSum(text, name, filter) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && filter(line)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

const authed = { authorization: `Bearer ${ADMIN_KEY}` };

// A datetime-local value (YYYY-MM-DDTHH:MM, read as UTC by the console) `offsetMs` from now.
const localInput = (offsetMs) => new Date(Date.now() + offsetMs).toISOString().slice(0, 16);
const HOUR_MS = 3600 * 1000;

describe('console', { skip: !existsSync(CHROMIUM) && 'chromium not installed' }, () => {
  let sim;
  let gateway;
  let dir;
  const sent = [];

  before(async () => {
    dir = tempDir('sluice-console-');
    writeIn(dir, 'prices.yaml', 'currency: EUR\nmodels:\n  gpt-4o: {input: 0.5, output: 1.5}\n');
    sim = await startSluice(['sim', '--config', writeIn(dir, 'sim.yaml', SIM_CONFIG)]);
    gateway = await startGateway(writeIn(dir, 'gateway.yaml', gatewayConfig(sim.url, dir)));
    const client = (app) => new AzureOpenAI({
      endpoint: gateway.url, apiKey: 'unused', apiVersion: GA, deployment: 'gpt-4o', maxRetries: 0,
      defaultHeaders: { 'x-app-key': APPS[app] },
    });
    for (const app of Object.keys(APPS)) {
      for (let i = 0; i < REQUESTS_PER_APP; i++) {
        const content = app === 'app-b' && i === 0 ? XSS_PROMPT : `Request ${i} from ${app}: tell me about rivers.`;
        const stream = i % 2 === 1;
        if (stream) {
          const chunks = await client(app).chat.completions.create({
            messages: [{ role: 'user', content }], max_tokens: 8, stream: true, stream_options: { include_usage: true },
          });
          let usage;
          for await (const chunk of chunks) usage = chunk.usage ?? usage;
          sent.push({ app, usage });
        } else {
          const answer = await client(app).chat.completions.create({ messages: [{ role: 'user', content }], max_tokens: 8 });
          sent.push({ app, usage: answer.usage });
        }
      }
    }
    // Records reach the store (and prompts the file) in the background: wait until all are there.
    const stored = await pollUntil(async () => {
      const body = await (await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?since=1h&by=app`, { headers: authed })).json();
      return body.total ? body.total.requests : 0;
    }, (n) => n === sent.length);
    assert.equal(stored, sent.length, 'every record reached the usage store');
    const logged = await pollUntil(async () => {
      const body = await (await fetchWithTimeout(`${gateway.admin}/console/api/prompts?limit=500`, { headers: authed })).json();
      return body.entries.length;
    }, (n) => n === sent.length);
    assert.equal(logged, sent.length, 'every prompt reached the prompt log');
  });

  after(async () => {
    if (gateway) await gateway.stop();
    if (sim) await sim.stop();
  });

  const tokensOf = (app) => sent.filter((s) => s.app === app).reduce((a, s) => a + s.usage.total_tokens, 0);

  test('no credential, or a wrong one, is a JSON 401 on every admin data route', async () => {
    for (const view of ['backends', 'traffic', 'chargeback', 'chargeback?format=csv', 'prompts', 'config', 'whoami']) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { 'api-key': 'wrong' }, { 'x-app-key': APPS['app-a'] }]) {
        const response = await fetchWithTimeout(`${gateway.admin}/console/api/${view}`, { headers });
        assert.equal(response.status, 401, `${view} with ${JSON.stringify(headers)}`);
        assert.match(response.headers.get('content-type'), /application\/json/);
        const body = await response.json();
        assert.ok(body.error && body.error.message, JSON.stringify(body));
        assert.doesNotMatch(JSON.stringify(body), /app-a|app-b|gpt-4o|ptu/);
      }
    }
    // The admin key also works as api-key.
    assert.equal((await fetchWithTimeout(`${gateway.admin}/console/api/whoami`, { headers: { 'api-key': ADMIN_KEY } })).status, 200);
    // Existing admin routes are unchanged: scrapers and probes need no credential by default.
    for (const route of ['/metrics', '/admin/backends', '/healthz', '/readyz']) {
      assert.equal((await fetchWithTimeout(`${gateway.admin}${route}`)).status, 200, route);
    }
  });

  test('the page and its assets carry a strict CSP and nosniff, and hold no admin data', async () => {
    for (const [path, type] of [['/', /text\/html/], ['/console/console.js', /javascript/], ['/console/console.css', /text\/css/]]) {
      const response = await fetchWithTimeout(`${gateway.admin}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type'), type);
      const csp = response.headers.get('content-security-policy');
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      const text = await response.text();
      assert.doesNotMatch(text, /app-a|app-b|ptu|paygo/, `${path} holds no admin data`);
      if (path === '/') assert.doesNotMatch(text, /(src|href)=["']?(https?:)?\/\//, 'nothing from another origin');
    }
    const page = await (await fetchWithTimeout(`${gateway.admin}/`)).text();
    assert.doesNotMatch(page, /<script>|<style>|\son\w+=/i, 'no inline script, style or handler');
    const script = await (await fetchWithTimeout(`${gateway.admin}/console/console.js`)).text();
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  test('the JSON API gives the numbers /metrics, /admin/backends and the clients saw', async () => {
    const metrics = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
    const traffic = await (await fetchWithTimeout(`${gateway.admin}/console/api/traffic`, { headers: authed })).json();
    const chargeback = await (await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?since=1h&by=app`, { headers: authed })).json();
    for (const app of Object.keys(APPS)) {
      const fromMetrics = metricSum(metrics, 'sluice_tokens_total', (l) => l.includes('type="total"') && l.includes(`app="${app}"`));
      const perMinute = traffic.apps[app].tokens.reduce((a, b) => a + b, 0);
      const row = chargeback.rows.find((r) => r.app === app);
      assert.equal(fromMetrics, tokensOf(app), `sluice_tokens_total for ${app}`);
      assert.equal(perMinute, tokensOf(app), `traffic ring for ${app}`);
      assert.equal(row.total_tokens, tokensOf(app), `chargeback for ${app}`);
      assert.equal(row.requests, REQUESTS_PER_APP);
      assert.equal(traffic.apps[app].requests.reduce((a, b) => a + b, 0), REQUESTS_PER_APP);
    }
    assert.equal(traffic.total_requests, sent.length);
    // Token-limit headroom: one counter per app, its use and what is left adding up to the limit.
    assert.deepEqual(traffic.limits.map((l) => `${l.limit}|${l.key}`).sort(), ['per-app|app-a', 'per-app|app-b']);
    for (const l of traffic.limits) {
      assert.equal(l.tokens_per_minute, 1000000);
      assert.equal(l.used_this_minute + l.remaining_this_minute, 1000000);
    }
    assert.equal(traffic.minutes.length, 60);
    assert.equal(chargeback.currency, 'EUR');
    assert.ok(chargeback.total.cost > 0);

    const admin = await (await fetchWithTimeout(`${gateway.admin}/admin/backends`)).json();
    const backends = await (await fetchWithTimeout(`${gateway.admin}/console/api/backends`, { headers: authed })).json();
    assert.deepEqual(backends.backends.map((b) => [b.name, b.requests, b.throttled]), admin.backends.map((b) => [b.name, b.requests, b.throttled]));
    const ptu = backends.backends.find((b) => b.name === 'ptu');
    const paygo = backends.backends.find((b) => b.name === 'paygo');
    // Every request ended on one backend; the PTU's 429s each failed over to the pay-as-you-go one.
    assert.equal(ptu.recent.attempts, ptu.requests);
    assert.equal(ptu.recent.throttled, ptu.throttled);
    assert.equal(ptu.recent.failovers, ptu.throttled);
    assert.equal(paygo.recent.attempts, paygo.requests);
    assert.equal(ptu.requests - ptu.throttled + paygo.requests, sent.length);

    const csv = await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?since=1h&by=app,backend&format=csv`, { headers: authed });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition'), /^attachment; filename="sluice-chargeback-1h.csv"$/);
    const lines = (await csv.text()).trim().split('\n');
    assert.match(lines[0], /^app,backend,requests/);
    const csvRequests = lines.slice(1).filter((l) => /^app-/.test(l)).reduce((a, l) => a + Number(l.split(',')[2]), 0);
    assert.equal(csvRequests, sent.length);

    const prompts = await (await fetchWithTimeout(`${gateway.admin}/console/api/prompts?app=app-b&q=${encodeURIComponent('<script>')}`, { headers: authed })).json();
    assert.equal(prompts.entries.length, 1);
    assert.match(prompts.entries[0].prompt, /<script>alert\(1\)<\/script>/);
    const appA = await (await fetchWithTimeout(`${gateway.admin}/console/api/prompts?app=app-a`, { headers: authed })).json();
    assert.equal(appA.entries.length, REQUESTS_PER_APP);
    assert.ok(appA.entries.every((e) => e.app_id === 'app-a'));
  });

  test('a chargeback from-until range bounds both ends; bad bounds are a 400 naming the parameter', async () => {
    const chargeback = async (query) => (await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?${query}`, { headers: authed })).json();
    const lastHour = await chargeback('since=1h&by=app');
    const around = await chargeback(`from=${localInput(-HOUR_MS)}&until=${localInput(HOUR_MS)}&by=app`);
    assert.equal(around.since, null);
    assert.match(around.from, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    assert.deepEqual(around.rows.map((r) => [r.app, r.requests, r.total_tokens]), lastHour.rows.map((r) => [r.app, r.requests, r.total_tokens]));
    assert.equal(around.total.total_tokens, tokensOf('app-a') + tokensOf('app-b'));
    // Ends in the past, and starts in the future: no record falls inside either.
    const before = await chargeback('from=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z&by=app');
    assert.equal(before.rows.length, 0);
    assert.equal(before.total.requests, 0);
    assert.equal(before.until, '2000-01-02T00:00:00Z');
    assert.equal((await chargeback(`from=${localInput(HOUR_MS)}&by=app`)).rows.length, 0);
    assert.equal((await chargeback(`until=${localInput(-HOUR_MS)}&by=app`)).rows.length, 0);

    const csv = await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?from=2000-01-01T00:00&until=2000-01-02T00:00&by=app&format=csv`, { headers: authed });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition'), /filename="sluice-chargeback-2000-01-01T00-00-00Z_2000-01-02T00-00-00Z.csv"/);
    assert.equal((await csv.text()).split('\n').filter((l) => /^app-/.test(l)).length, 0, 'the CSV honours the range');

    for (const [query, code, says] of [
      ['from=yesterday', 'invalid_from', /^from=yesterday: expected a UTC date and time as YYYY-MM-DDTHH:MM\[:SS\]\[Z\]/],
      ['from=2026-12-04T10:00&until=04.12.2026', 'invalid_until', /^until=04\.12\.2026: expected/],
      ['from=2026-12-04T10:00&until=2026-12-04T09:00', 'invalid_range', /from=2026-12-04T10:00 is not before until=2026-12-04T09:00/],
      ['since=1h&from=2026-12-04T10:00', 'invalid_range', /not both/],
    ]) {
      const response = await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?${query}`, { headers: authed });
      assert.equal(response.status, 400, query);
      const body = await response.json();
      assert.equal(body.error.code, code, query);
      assert.match(body.error.message, says, query);
    }
  });

  test('the config view masks every secret and shows the load time', async () => {
    const body = await (await fetchWithTimeout(`${gateway.admin}/console/api/config`, { headers: authed })).json();
    const text = JSON.stringify(body);
    for (const secret of [ADMIN_KEY, UPSTREAM_KEY, APPS['app-a'], APPS['app-b']]) {
      assert.ok(!text.includes(secret), `${secret} is masked`);
    }
    assert.equal(body.config.backends[0].auth.key, '********');
    assert.equal(body.config.backends[0].url, sim.url);
    assert.ok(body.loaded_at_ms > 0);
    assert.equal(body.last_reload, null);
  });

  test('Chromium renders every tab with the API\'s numbers; markup in a prompt stays text', async () => {
    const dom = renderedDom(gateway.admin, `#key=${ADMIN_KEY}&tab=backends`);
    const html = dom.stdout;
    assert.match(html, /<body[^>]*data-ready="1"/, 'the script loaded every view');
    const consoleLines = dom.stderr.split('\n').filter((l) => /CONSOLE|Uncaught|Content Security Policy/.test(l));
    assert.deepEqual(consoleLines, []);
    assert.ok(!html.includes(ADMIN_KEY), 'the key left the address bar and the page');

    // Backends: the requests and 429 columns are /admin/backends' counters.
    const admin = await (await fetchWithTimeout(`${gateway.admin}/admin/backends`)).json();
    for (const b of admin.backends) {
      const row = html.match(new RegExp(`<tr data-backend="${b.name}">(.*?)</tr>`));
      assert.ok(row, `a row for ${b.name}`);
      assert.equal(number(cellText(row[1], '<td[^>]*data-field="requests"')), b.requests);
      assert.equal(number(cellText(row[1], '<td[^>]*data-field="throttled"')), b.throttled);
    }

    // Chargeback: one row per app × deployment × backend, totals equal to what the clients got.
    const api = await (await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?since=24h&by=app,deployment,backend`, { headers: authed })).json();
    assert.match(html, new RegExp(`<body[^>]*data-chargeback-rendered="${api.rows.length}"`));
    for (const r of api.rows) {
      const row = html.match(new RegExp(`<tr data-key="${r.app}\\|${r.deployment}\\|${r.backend}">(.*?)</tr>`));
      assert.ok(row, `a row for ${r.app} ${r.backend}`);
      assert.equal(number(cellText(row[1], '<td[^>]*data-field="total_tokens"')), r.total_tokens);
      assert.equal(number(cellText(row[1], '<td[^>]*data-field="requests"')), r.requests);
    }
    const total = html.match(/<tr data-key="total">(.*?)<\/tr>/);
    assert.equal(number(cellText(total[1], '<td[^>]*data-field="total_tokens"')), tokensOf('app-a') + tokensOf('app-b'));
    assert.equal(number(cellText(total[1], '<td[^>]*data-field="requests"')), sent.length);

    // Traffic: the charts and the table add up to the clients' tokens.
    assert.equal(number(cellText(html, 'id="traffic-tokens"')), tokensOf('app-a') + tokensOf('app-b'));
    assert.equal(number(cellText(html, 'id="traffic-requests"')), sent.length);
    const chart = html.match(/id="chart-app-tokens"[^>]*/)[0];
    assert.match(chart, new RegExp(`data-total="${tokensOf('app-a') + tokensOf('app-b')}"`));
    assert.match(chart, /data-series="2"/);
    assert.equal((html.match(/<polyline/g) || []).length, 4 * 2 - 2, 'two apps on two charts, one deployment on two');
    for (const app of Object.keys(APPS)) {
      const row = html.match(new RegExp(`<tr data-app="${app}">(.*?)</tr>`));
      assert.equal(number(cellText(row[1], '<td[^>]*data-field="tokens"')), tokensOf(app));
    }

    for (const app of Object.keys(APPS)) {
      const row = html.match(new RegExp(`<tr data-limit="per-app\\|${app}">(.*?)</tr>`));
      assert.ok(row, `a headroom row for ${app}`);
      assert.equal(number(cellText(row[1], '<td[^>]*data-field="tokens_per_minute"')), 1000000);
    }

    // Prompt log: the markup is shown as text, and none of it ran.
    assert.match(html, new RegExp(`<body[^>]*data-prompts-rendered="${sent.length}"`));
    const shown = html.match(/<td class="text" data-field="prompt">([^<]*&lt;script&gt;[^<]*)<\/td>/);
    assert.ok(shown, 'the prompt is a text cell');
    assert.ok(shown[1].includes('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror='), shown[1]);
    assert.equal((html.match(/<script/g) || []).length, 1, 'only the console\'s own script element');
    assert.equal((html.match(/<img/g) || []).length, 0, 'no element from the prompt');
    assert.match(html, /<title>sluice console<\/title>/, 'the onerror handler never ran');

    // Config: masked.
    const config = cellText(html, '<pre id="config-text"');
    assert.ok(config && config.includes('********'));
    for (const secret of [ADMIN_KEY, UPSTREAM_KEY, APPS['app-a']]) assert.ok(!html.includes(secret));
  });

  test('Chromium with no credential shows the sign-in form and no data', () => {
    const dom = renderedDom(gateway.admin, '');
    assert.match(dom.stdout, /<section id="login">/, 'the sign-in form is shown');
    assert.doesNotMatch(dom.stdout, /data-ready=/);
    assert.doesNotMatch(dom.stdout, /app-a|app-b|ptu|paygo/);
    const wrong = renderedDom(gateway.admin, '#key=wrong-key');
    assert.match(wrong.stdout, /<section id="login">/);
    assert.match(wrong.stdout, /<p id="login-error" class="error">[^<]+<\/p>/, 'the refusal is explained');
    assert.doesNotMatch(wrong.stdout, /app-a|app-b|ptu|paygo/);
  });

  test('Chromium: a chargeback range that excludes the load shows no rows; one around it, the API\'s totals', async () => {
    const empty = renderedDom(gateway.admin, `#key=${ADMIN_KEY}&tab=chargeback&from=2000-01-01T00:00&until=2000-01-02T00:00`).stdout;
    assert.match(empty, /<body[^>]*data-chargeback-rendered="0"/);
    assert.match(empty, /id="chargeback-note"[^>]*>[^<]*from 2000-01-01T00:00:00Z until 2000-01-02T00:00:00Z/);
    assert.equal(number(cellText(empty.match(/<tr data-key="total">(.*?)<\/tr>/)[1], '<td[^>]*data-field="requests"')), 0);

    const [from, until] = [localInput(-HOUR_MS), localInput(HOUR_MS)];
    const api = await (await fetchWithTimeout(`${gateway.admin}/console/api/chargeback?from=${from}&until=${until}&by=app,deployment,backend`, { headers: authed })).json();
    assert.ok(api.rows.length > 0);
    const html = renderedDom(gateway.admin, `#key=${ADMIN_KEY}&tab=chargeback&from=${from}&until=${until}`).stdout;
    assert.match(html, new RegExp(`<body[^>]*data-chargeback-rendered="${api.rows.length}"`));
    const total = html.match(/<tr data-key="total">(.*?)<\/tr>/);
    assert.equal(number(cellText(total[1], '<td[^>]*data-field="total_tokens"')), api.total.total_tokens);
    assert.equal(number(cellText(total[1], '<td[^>]*data-field="requests"')), api.total.requests);
    assert.equal(api.total.requests, sent.length);
    assert.match(html, new RegExp(`id="chargeback-note"[^>]*>[^<]*from ${from}:00Z until ${until}:00Z`));
  });

  test('the PTU backend\'s utilisation header shows in the API, /metrics and the Backends tab alike', async () => {
    // More requests until the PTU (tried first) answered one itself: a request it admits reports
    // the budget it took (above 0), while its injected 429s report the level drained since. Fresh,
    // too, so the table cannot say "not reported". Bounded: the seeded sim fails half of them.
    const client = new AzureOpenAI({
      endpoint: gateway.url, apiKey: 'unused', apiVersion: GA, deployment: 'gpt-4o', maxRetries: 0,
      defaultHeaders: { 'x-app-key': APPS['app-a'] },
    });
    let backends;
    for (let i = 0; i < 20; i++) {
      const answer = await client.chat.completions.create({ messages: [{ role: 'user', content: `utilisation ${i}?` }], max_tokens: 8 });
      sent.push({ app: 'app-a', usage: answer.usage });
      backends = await (await fetchWithTimeout(`${gateway.admin}/console/api/backends`, { headers: authed })).json();
      if (backends.backends.find((b) => b.name === 'ptu').utilization?.percent > 0) break;
    }
    const ptu = backends.backends.find((b) => b.name === 'ptu');
    const paygo = backends.backends.find((b) => b.name === 'paygo');
    assert.ok(ptu.utilization, 'the provisioned deployment reported a figure');
    assert.ok(ptu.utilization.percent > 0, JSON.stringify(ptu.utilization));
    assert.ok(ptu.utilization.age_ms >= 0);
    assert.equal(paygo.utilization, null, 'the pay-as-you-go deployment sends no utilisation header');

    const metrics = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
    const gauges = metrics.split('\n').filter((l) => l.startsWith('sluice_backend_utilization_percent{'));
    assert.deepEqual(gauges, [`sluice_backend_utilization_percent{backend="ptu"} ${ptu.utilization.percent}`]);

    const html = renderedDom(gateway.admin, `#key=${ADMIN_KEY}&tab=backends`).stdout;
    const row = (name) => html.match(new RegExp(`<tr data-backend="${name}">(.*?)</tr>`))[1];
    const shown = row('ptu').match(/<td class="num" data-field="utilization" data-percent="([^"]+)">([^<]*)</);
    assert.ok(shown, row('ptu'));
    assert.equal(Number(shown[1]), ptu.utilization.percent);
    assert.match(shown[2], new RegExp(`^${ptu.utilization.percent.toFixed(1).replace('.', '\\.')} % \\(\\d+ s ago\\)$`));
    assert.equal(cellText(row('paygo'), '<td[^>]*data-field="utilization"'), 'not reported');
  });

  test('a screenshot of every tab', () => {
    const out = process.env.SLUICE_CONSOLE_SCREENSHOTS;
    if (out) mkdirSync(out, { recursive: true });
    for (const tab of ['backends', 'traffic', 'chargeback', 'prompts', 'config']) {
      const png = join(dir, `console-${tab}.png`);
      const shot = runChromium(['--window-size=1280,900', '--hide-scrollbars', '--virtual-time-budget=8000',
        `--screenshot=${png}`, `${gateway.admin}/#key=${ADMIN_KEY}&tab=${tab}`]);
      assert.equal(shot.status, 0, shot.stderr);
      assert.ok(statSync(png).size > 20000, `a screenshot of ${tab} with content`);
      if (out) copyFileSync(png, join(out, `console-${tab}.png`));
    }
  });

  test('a refused reload shows in the config view, the running config kept', async () => {
    writeIn(dir, 'gateway.yaml', `${gatewayConfig(sim.url, dir)}\nnot_a_key: 1\n`);
    gateway.process.kill('SIGHUP');
    const body = await pollUntil(async () => {
      const b = await (await fetchWithTimeout(`${gateway.admin}/console/api/config`, { headers: authed })).json();
      return b.last_reload ? b : undefined;
    }, (b) => b !== undefined);
    assert.equal(body.last_reload.ok, false);
    assert.match(body.last_reload.error, /not_a_key/);
    assert.ok(!body.config.not_a_key, 'still the running config');
    writeIn(dir, 'gateway.yaml', gatewayConfig(sim.url, dir));
  });
});

describe('console.protect_admin_routes', () => {
  let sim;
  let gateway;
  before(async () => {
    const dir = tempDir('sluice-console-protect-');
    writeIn(dir, 'prices.yaml', 'currency: EUR\nmodels: {}\n');
    sim = await startSluice(['sim', '--config', writeIn(dir, 'sim.yaml', SIM_CONFIG)]);
    gateway = await startGateway(writeIn(dir, 'gateway.yaml', gatewayConfig(sim.url, dir, { protect: true })));
  });
  after(async () => {
    if (gateway) await gateway.stop();
    if (sim) await sim.stop();
  });

  test('/metrics and /admin/backends then need the admin credential; probes never do', async () => {
    for (const route of ['/metrics', '/admin/backends']) {
      assert.equal((await fetchWithTimeout(`${gateway.admin}${route}`)).status, 401, route);
      assert.equal((await fetchWithTimeout(`${gateway.admin}${route}`, { headers: authed })).status, 200, route);
    }
    for (const route of ['/healthz', '/readyz']) {
      assert.equal((await fetchWithTimeout(`${gateway.admin}${route}`)).status, 200, route);
    }
  });
});
