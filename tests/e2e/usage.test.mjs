// End-to-end accounting: the official openai client sends mixed traffic through `sluice gateway`
// to `sluice sim`; the usage store (SQLite, then a real PostgreSQL server started here) must hold
// exactly one record per request with the tokens the client received, and its sums must equal the
// simulator's own accounting per app and per deployment. Also: /metrics passes `promtool check
// metrics`, and every query of the Grafana dashboard and alert rules names an exported metric.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { AzureOpenAI } from 'openai';
import { encoding_for_model } from 'tiktoken';

import {
  apiKeyIdentityYaml, chatPromptTokens, fetchWithTimeout, gatewayRequestId as idOf, pollUntil, simUsage as usageOf, startGateway,
  startSluice, tempDir, tempFile,
} from './helpers.mjs';
import { startPostgres, sumBy, waitForRows } from '../integration/usage_support.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GA = '2024-10-21';
const APPS = { 'app-a': 'key-for-a', 'app-b': 'key-for-b', 'app-c': 'key-for-c' };

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
seed: 11
deployments:
  gpt-4o-ptu: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 5ms, tokens_per_second: 0, natural_length: 20}
  gpt-4o-paygo: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 5ms, tokens_per_second: 0, natural_length: 20}
  gpt-35: {model: gpt-35-turbo, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 13}
  embed: {model: text-embedding-3-small, tokens_per_minute: 0, time_to_first_token: 0ms}
  slow: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 4, natural_length: 400}
  busy: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms}
auth:
  mode: keys
  api_keys:
    - {name: gateway, key: gateway-upstream-key}
faults:
  - {deployment: gpt-4o-ptu, error_rate: 0.5, status_codes: [429]}
  - {deployment: busy, throttle: true}
`;

function gatewayConfig(simUrl, journal, store) {
  return `
listeners: [{port: 0, threads: 2}]
admin: {port: 0}
backends:
  - {name: ptu, url: ${simUrl}, type: azure, auth: {type: api-key, key: gateway-upstream-key}, deployments: {gpt-4o: gpt-4o-ptu}}
  - {name: paygo, url: ${simUrl}, type: azure, auth: {type: api-key, key: gateway-upstream-key}, deployments: {gpt-4o: gpt-4o-paygo}}
  - {name: shared, url: ${simUrl}, type: azure, auth: {type: api-key, key: gateway-upstream-key}}
pools:
  - name: chat
    members: [{backend: ptu, priority: 1}, {backend: paygo, priority: 2}]
    breaker: {failures: 100000}
  - {name: shared, members: [{backend: shared}], breaker: {failures: 100000}}
routes:
  - {name: chat, match: {deployments: [gpt-4o]}, pool: chat}
  - {name: other, pool: shared}
policies:
${apiKeyIdentityYaml(APPS)}
  usage: {journal: ${journal}, store: "${store}", ship_interval: 50ms}
  metrics: {dimensions: [app, deployment, model, backend, operation]}
`;
}

// Sends the mixed traffic; returns what the clients saw, one entry per request.
async function sendTraffic(gatewayUrl, o200k) {
  const seen = [];
  // Apps present their key in x-app-key (the identity policy's configured header); the api-key
  // header the client library insists on is not theirs and never leaves the gateway.
  const client = (app, deployment) => new AzureOpenAI({
    endpoint: gatewayUrl, apiKey: 'unused', apiVersion: GA, deployment, maxRetries: 0,
    defaultHeaders: { 'x-app-key': APPS[app] },
  });
  const messages = (app, i) => [{ role: 'user', content: `Request ${i} from ${app}: tell me about rivers.` }];
  const jobs = [];
  for (const app of ['app-a', 'app-b']) {
    for (let i = 0; i < 6; i++) {
      // Non-streaming chat through the PTU-first pool (half of the PTU answers are 429: failover).
      jobs.push((async () => {
        const { data, response } = await client(app, 'gpt-4o').chat.completions
          .create({ messages: messages(app, i), max_tokens: 5 + i }).withResponse();
        seen.push({ id: idOf(response.headers), app, deployment: 'gpt-4o', status: 200, usage: data.usage });
      })());
      // Streaming without include_usage: the client gets no usage; it counts the text itself.
      jobs.push((async () => {
        const msgs = messages(app, 100 + i);
        const { data: stream, response } = await client(app, 'gpt-4o').chat.completions
          .create({ messages: msgs, stream: true }).withResponse();
        let text = '';
        let usage = null;
        for await (const chunk of stream) {
          text += chunk.choices?.[0]?.delta?.content ?? '';
          if (chunk.usage) usage = chunk.usage;
        }
        assert.equal(usage, null, 'the usage chunk the gateway asked for must not reach the client');
        const completion = o200k.encode(text).length;
        const prompt = chatPromptTokens(o200k, msgs);
        seen.push({ id: idOf(response.headers), app, deployment: 'gpt-4o', status: 200,
          usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
      })());
      // Streaming with include_usage: the client gets the usage chunk.
      jobs.push((async () => {
        const { data: stream, response } = await client(app, 'gpt-4o').chat.completions
          .create({ messages: messages(app, 200 + i), stream: true, stream_options: { include_usage: true } })
          .withResponse();
        let usage = null;
        for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
        assert.ok(usage, 'asked for usage, got none');
        seen.push({ id: idOf(response.headers), app, deployment: 'gpt-4o', status: 200, usage });
      })());
    }
    for (let i = 0; i < 4; i++) {
      jobs.push((async () => {
        const { data, response } = await client(app, 'embed').embeddings
          .create({ model: 'embed', input: `embed ${app} ${i} some words` }).withResponse();
        seen.push({ id: idOf(response.headers), app, deployment: 'embed', status: 200,
          usage: { prompt_tokens: data.usage.prompt_tokens, completion_tokens: 0, total_tokens: data.usage.total_tokens } });
      })());
      jobs.push((async () => {
        const { data, response } = await client(app, 'gpt-35').chat.completions
          .create({ messages: messages(app, 300 + i) }).withResponse();
        seen.push({ id: idOf(response.headers), app, deployment: 'gpt-35', status: 200, usage: data.usage });
      })());
    }
    for (let i = 0; i < 2; i++) {
      // Every backend throttles: the client gets the 429, the record says so with no tokens.
      jobs.push((async () => {
        try {
          await client(app, 'busy').chat.completions.create({ messages: messages(app, 400 + i) });
          assert.fail('busy must throttle');
        } catch (error) {
          assert.equal(error.status, 429);
          seen.push({ id: idOf(error.headers), app, deployment: 'busy', status: 429,
            usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
        }
      })());
    }
  }
  await Promise.all(jobs);

  // app-c leaves mid-stream: the record exists, with the tokens sent so far, estimated.
  const disconnects = [];
  for (let i = 0; i < 3; i++) {
    const controller = new AbortController();
    const { data: stream, response } = await client('app-c', 'slow').chat.completions
      .create({ messages: messages('app-c', i), stream: true }, { signal: controller.signal }).withResponse();
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices?.[0]?.delta?.content && ++chunks === 5) controller.abort();
      }
    } catch {
      // aborted on purpose
    }
    disconnects.push(idOf(response.headers));
  }
  return { seen, disconnects };
}

function totals(entries) {
  const out = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const e of entries) {
    out.requests += 1;
    out.prompt_tokens += e.usage.prompt_tokens;
    out.completion_tokens += e.usage.completion_tokens ?? 0;
    out.total_tokens += e.usage.total_tokens;
  }
  return out;
}

for (const kind of ['sqlite', 'postgresql']) {
  describe(`usage accounting reconciles (${kind} store)`, () => {
    let sim;
    let gateway;
    let postgres;
    let store;
    let o200k;
    let traffic;
    let rows;
    let simUsage;

    before(async () => {
      o200k = encoding_for_model('gpt-4o');
      const dir = tempDir();
      if (kind === 'postgresql') {
        postgres = await startPostgres();
        store = postgres.url;
      } else {
        store = join(dir, 'usage.db');
      }
      sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
      gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(sim.url, join(dir, 'journal'), store)));
      traffic = await sendTraffic(gateway.url, o200k);
      const expected = traffic.seen.length + traffic.disconnects.length;
      rows = await waitForRows(store, (r) => r.length >= expected);
      // The simulator records an abandoned stream when it notices the gateway hung up, which may
      // come after the gateway's own record.
      simUsage = await pollUntil(() => usageOf(sim),
        (u) => (u.deployments.slow?.requests ?? 0) >= traffic.disconnects.length);
    });

    after(async () => {
      o200k?.free();
      if (gateway) await gateway.stop();
      if (sim) await sim.stop();
      postgres?.stop();
    });

    test('every request has exactly one record with the tokens its client received', () => {
      const byId = new Map();
      for (const row of rows) {
        assert.ok(!byId.has(row.request_id), `duplicate record for ${row.request_id}`);
        byId.set(row.request_id, row);
      }
      assert.equal(rows.length, traffic.seen.length + traffic.disconnects.length);
      for (const e of traffic.seen) {
        const row = byId.get(e.id);
        assert.ok(row, `no record for ${e.deployment} request ${e.id}`);
        assert.equal(row.requests, 1);
        assert.equal(row.app, e.app);
        assert.equal(row.deployment, e.deployment);
        assert.equal(Number(row.status), e.status);
        assert.equal(row.prompt_tokens, e.usage.prompt_tokens, `prompt tokens of ${e.id}`);
        assert.equal(row.completion_tokens, e.usage.completion_tokens ?? 0, `completion tokens of ${e.id}`);
        assert.equal(row.total_tokens, e.usage.total_tokens, `total tokens of ${e.id}`);
        assert.equal(row.source, e.status === 200 ? 'reported' : 'none');
      }
    });

    test('per app: store = what the clients received; in all: store = the simulator', () => {
      const store = sumBy(rows.filter((r) => r.status === '200'), (r) => r.app);
      const all = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
      for (const app of ['app-a', 'app-b']) {
        const client = totals(traffic.seen.filter((e) => e.app === app && e.status === 200));
        assert.deepEqual(store[app], client, `store vs clients for ${app}`);
        for (const k of Object.keys(all)) all[k] += client[k];
      }
      // The simulator saw every app through the gateway's key; app-c alone used `slow`.
      const gateway = simUsage.clients.gateway;
      const slow = simUsage.deployments.slow;
      assert.equal(gateway.requests - slow.requests, all.requests, 'simulator requests');
      assert.equal(gateway.prompt_tokens - slow.prompt_tokens, all.prompt_tokens, 'simulator prompt tokens');
      assert.equal(gateway.completion_tokens - slow.completion_tokens, all.completion_tokens, 'simulator completion tokens');
    });

    test('per deployment and backend: store = the simulator', () => {
      const byBackendDeployment = sumBy(rows.filter((r) => r.status === '200' && r.app !== 'app-c'),
        (r) => (r.deployment === 'gpt-4o' ? `gpt-4o-${r.backend}` : r.deployment));
      assert.ok(byBackendDeployment['gpt-4o-ptu']?.requests > 0, 'some requests stayed on the PTU');
      assert.ok(byBackendDeployment['gpt-4o-paygo']?.requests > 0, 'some requests failed over');
      assert.ok(simUsage.deployments['gpt-4o-ptu'].throttled > 0, 'the PTU throttled');
      for (const [deployment, sums] of Object.entries(byBackendDeployment)) {
        const s = simUsage.deployments[deployment];
        assert.ok(s, `simulator knows ${deployment}`);
        assert.equal(s.requests, sums.requests, `requests of ${deployment}`);
        assert.equal(s.prompt_tokens, sums.prompt_tokens, `prompt tokens of ${deployment}`);
        assert.equal(s.completion_tokens, sums.completion_tokens, `completion tokens of ${deployment}`);
      }
      assert.equal(simUsage.deployments.busy.requests ?? 0, 0);
    });

    test('clients that leave mid-stream still get a record, estimated from what was relayed', () => {
      const cut = rows.filter((r) => r.app === 'app-c');
      assert.equal(cut.length, traffic.disconnects.length);
      for (const id of traffic.disconnects) {
        const row = cut.find((r) => r.request_id === id);
        assert.ok(row, `no record for the abandoned stream ${id}`);
        assert.equal(row.source, 'estimated');
        assert.ok(row.completion_tokens >= 4, `counted the relayed tokens (${row.completion_tokens})`);
      }
      const s = simUsage.deployments.slow;
      const recorded = sumBy(cut, () => 'all').all;
      assert.equal(recorded.prompt_tokens, s.prompt_tokens, 'prompt tokens of abandoned streams');
      // The simulator counts what it wrote; tokens still in socket buffers when the client left
      // never reached the gateway. At 4 tokens/s the gap stays within a few tokens per stream
      // unless the gateway took seconds to notice.
      assert.ok(recorded.completion_tokens <= s.completion_tokens, `${recorded.completion_tokens} <= ${s.completion_tokens}`);
      assert.ok(s.completion_tokens - recorded.completion_tokens <= 3 * 4,
        `gateway ${recorded.completion_tokens} vs simulator ${s.completion_tokens}`);
    });

    test('/metrics is valid Prometheus text and its token counters match the store', async () => {
      const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
      const file = tempFile('metrics.txt', text);
      // promtool reads the exposition on stdin; a format error is a non-zero exit.
      execFileSync('sh', ['-c', `promtool check metrics < "${file}"`], { stdio: 'pipe' });
      const store = sumBy(rows.filter((r) => r.status === '200'), (r) => r.app);
      for (const app of ['app-a', 'app-b']) {
        let total = 0;
        for (const line of text.split('\n')) {
          if (line.startsWith('sluice_tokens_total{type="total"') && line.includes(`app="${app}"`)) {
            total += Number(line.split(' ').pop());
          }
        }
        assert.equal(total, store[app].total_tokens, `sluice_tokens_total for ${app}`);
      }
      assert.match(text, /sluice_usage_store_up\{journal="[^"]+"\} 1/);
      // Every record in the store went through the journal; records completed in the same
      // event-loop turn share a write(), so there are never more writes than records.
      const counter = (name) => Number(text.match(new RegExp(`^${name}\\{journal="[^"]+"\\} (\\d+)$`, 'm'))?.[1]);
      assert.equal(counter('sluice_usage_records_total'), rows.length);
      assert.ok(counter('sluice_usage_journal_writes_total') >= 1);
      assert.ok(counter('sluice_usage_journal_writes_total') <= rows.length);
      assert.match(text, /gen_ai_server_time_to_first_token_seconds_bucket\{/);
      assert.match(text, /gen_ai_client_token_usage_bucket\{gen_ai_token_type="input"/);
    });

    test('sluice usage report adds up to the same totals, with prices', () => {
      const prices = tempFile('prices.yaml', 'currency: EUR\nmodels:\n  gpt-4o: {input: 1, output: 2}\n');
      const out = execFileSync(process.env.SLUICE_BIN || join(repo, 'build/sluice'),
        ['usage', 'report', '--store', store, '--by', 'app', '--format', 'json', '--prices', prices], { encoding: 'utf8' });
      const report = JSON.parse(out);
      const all = sumBy(rows, () => 'all').all;
      assert.equal(report.total.total_tokens, all.total_tokens);
      assert.equal(report.total.requests, all.requests);
      assert.equal(report.currency, 'EUR');
      assert.ok(report.rows.every((r) => r.cost >= 0));
      const table = execFileSync(process.env.SLUICE_BIN || join(repo, 'build/sluice'),
        ['usage', 'report', '--store', store, '--by', 'app,deployment,backend'], { encoding: 'utf8' });
      assert.match(table, /^app\s+deployment\s+backend\s+requests/m);
      assert.match(table, /TOTAL/);
    });

    test('sluice usage report --from/--until bounds the period at both ends', () => {
      const bin = process.env.SLUICE_BIN || join(repo, 'build/sluice');
      const report = (...range) => JSON.parse(execFileSync(bin,
        ['usage', 'report', '--store', store, '--by', 'app', '--format', 'json', ...range], { encoding: 'utf8' }));
      const all = sumBy(rows, () => 'all').all;
      const iso = (ms) => new Date(ms).toISOString();
      const hour = 3600e3;
      assert.equal(report('--from', iso(Date.now() - hour), '--until', iso(Date.now() + hour)).total.requests, all.requests);
      assert.equal(report('--from', iso(Date.now() - hour)).total.requests, all.requests, 'open end: until now');
      assert.equal(report('--until', iso(Date.now() - hour)).total.requests, 0, 'all records are newer');
      assert.equal(report('--from', iso(Date.now() + hour)).total.requests, 0, 'all records are older');
      // Every problem of the command line in one run, each naming the option and the expected form.
      const refused = spawnSync(bin, ['usage', 'report', '--store', store, '--since', '1h',
        '--from', 'yesterday', '--until', '2026-02-30T00:00'], { encoding: 'utf8' });
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /--since 1h: give either --since or --from\/--until/);
      assert.match(refused.stderr, /--from yesterday: expected a UTC date and time as YYYY-MM-DDTHH:MM/);
      assert.match(refused.stderr, /--until 2026-02-30T00:00: expected a UTC date and time/);
      const backwards = spawnSync(bin, ['usage', 'report', '--store', store,
        '--from', '2026-12-02T00:00Z', '--until', '2026-12-01T00:00Z'], { encoding: 'utf8' });
      assert.equal(backwards.status, 2);
      assert.match(backwards.stderr, /--from 2026-12-02T00:00Z: must be before --until 2026-12-01T00:00Z/);
    });
  });
}

describe('dashboards and alerts name only exported metrics', () => {
  let exported;

  before(async () => {
    // A gateway with the metrics and usage policies, scraped once for the metric names it exports.
    const sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
    const dir = tempDir();
    const gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(sim.url, join(dir, 'journal'), join(dir, 'usage.db'))));
    try {
      const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
      exported = new Map();
      for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) exported.set(m[1], m[2]);
    } finally {
      await gateway.stop();
      await sim.stop();
    }
  });

  // Metric names in a PromQL expression: every selector is written name{...} in these files.
  function metricsIn(expr) {
    return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]);
  }
  function known(name) {
    if (exported.has(name)) return true;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return base !== name && exported.get(base) === 'histogram';
  }

  test('every Grafana panel query names an exported metric', () => {
    const dir = join(repo, 'deploy/grafana');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    let queries = 0;
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const panels = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          const names = metricsIn(target.expr ?? '');
          assert.ok(names.length > 0, `${file}: panel "${panel.title}" has a query without a metric: ${target.expr}`);
          for (const name of names) assert.ok(known(name), `${file}: panel "${panel.title}" uses ${name}, which the gateway does not export`);
          queries += 1;
        }
      }
    }
    assert.ok(queries >= 8, `only ${queries} queries`);
  });

  test('alert rules pass promtool and name exported metrics', () => {
    const dir = join(repo, 'deploy/prometheus');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));
    assert.ok(files.length > 0);
    for (const file of files) {
      execFileSync('promtool', ['check', 'rules', join(dir, file)], { stdio: 'pipe' });
      const text = readFileSync(join(dir, file), 'utf8');
      // One expression per line (no folded YAML), so each can be checked here.
      for (const m of text.matchAll(/^\s*expr:\s*(.+)$/gm)) {
        assert.ok(!/^[>|]/.test(m[1]), `${file}: write expr on one line`);
        const names = metricsIn(m[1]);
        assert.ok(names.length > 0, `${file}: ${m[1]}`);
        for (const name of names) assert.ok(known(name), `${file}: ${name} is not exported`);
      }
    }
  });
});
