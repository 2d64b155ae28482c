// OpenTelemetry traces end to end: the official `openai` client sends plain and streamed requests
// through `sluice gateway` (tracing on) to `sluice sim`, behind a small recording proxy that keeps
// the traceparent each backend attempt carried. A real OTLP/HTTP receiver started here decodes every
// export with the official opentelemetry-proto schema (the protobufjs code generated from it that
// @opentelemetry/otlp-transformer ships). Checks: span attributes = the usage records (tokens,
// model, app), the client's traceparent continued and forwarded, failover as two attempt children,
// a dead or stalled collector costs counted spans and never a request, `sluice load` requests
// arrive carrying a traceparent of the run's trace id prefix, and exports go through the config's
// proxy (a real tinyproxy) unless `policies.tracing.proxy: none`. Counts and outcomes only, no
// timings.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  apiKeyIdentityYaml, fetchWithTimeout, NO_PROXY_ENV, pollUntil, runSluice, startGateway, startSluice, startTinyproxy,
  stopProcess, tempDir, tempFile, writeIn,
} from './helpers.mjs';
import { storeRows } from '../integration/usage_support.mjs';

const require = createRequire(import.meta.url);
const otlp = require('@opentelemetry/otlp-transformer/build/src/generated/root.js').opentelemetry.proto;
const ExportTraceServiceRequest = otlp.collector.trace.v1.ExportTraceServiceRequest;
const ExportTraceServiceResponse = otlp.collector.trace.v1.ExportTraceServiceResponse;
const SpanKind = otlp.trace.v1.Span.SpanKind;
const StatusCode = otlp.trace.v1.Status.StatusCode;

const GA = '2024-10-21';
const APPS = { 'app-a': 'key-for-a', 'app-b': 'key-for-b' };
const hex = (bytes) => Buffer.from(bytes ?? []).toString('hex');

function anyValue(v) {
  if (v.stringValue !== undefined && v.stringValue !== null && v.stringValue !== '') return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null) return Number(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return v.stringValue;
}
const attributesOf = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));

// An OTLP/HTTP receiver on loopback. mode: 'ok' answers every export; 'stall' never answers.
async function startReceiver() {
  const receiver = { spans: [], resources: [], exports: 0, proxiedExports: 0, refusedBodies: 0, mode: 'ok', held: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      receiver.exports++;
      if (req.headers.via) receiver.proxiedExports++;  // a proxy on the way says so (RFC 9110 Via)
      if (req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/x-protobuf') {
        receiver.refusedBodies++;
        res.writeHead(415).end();
        return;
      }
      const message = ExportTraceServiceRequest.decode(Buffer.concat(chunks));
      for (const rs of message.resourceSpans) {
        const resource = attributesOf(rs.resource?.attributes);
        receiver.resources.push(resource);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            receiver.spans.push({
              traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), name: s.name,
              kind: s.kind, attributes: attributesOf(s.attributes), status: s.status ?? {}, flags: s.flags,
              events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
              scope: ss.scope?.name, resource,
            });
          }
        }
      }
      if (receiver.mode === 'stall') {
        receiver.held.push(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(Buffer.from(ExportTraceServiceResponse.encode({}).finish()));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${server.address().port}`;
  receiver.close = () => new Promise((resolve) => {
    for (const res of receiver.held) res.destroy();
    server.closeAllConnections();
    server.close(resolve);
  });
  return receiver;
}

// A recording proxy in front of the simulator: keeps each request's traceparent; `failing` answers
// 429 itself (a throttled PTU) so the gateway fails over.
async function startRecorder(target, { failing = false } = {}) {
  const recorder = { seen: [] };
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    recorder.seen.push({ traceparent: req.headers.traceparent, requestId: req.headers['x-ms-client-request-id'] });
    if (failing) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '10' });
      res.end(JSON.stringify({ error: { code: '429', message: 'Rate limit is exceeded.' } }));
      return;
    }
    const forward = http.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  recorder.url = `http://127.0.0.1:${server.address().port}`;
  recorder.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return recorder;
}

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 7
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 12}
  gpt-fo: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 12}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig({ front, throttled, collector, store, journal, queueSize = 1000, timeout = '2s' }) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: front, url: "${front}", auth: {type: api-key, key: upstream-key}}
  - {name: ptu, url: "${throttled}", auth: {type: api-key, key: upstream-key}}
pools:
  - {name: main, members: [{backend: front}]}
  - name: failover
    members: [{backend: ptu, priority: 1}, {backend: front, priority: 2}]
    breaker: {failures: 100000}
routes:
  - {name: failover, match: {deployments: [gpt-fo]}, pool: failover}
  - {name: main, pool: main}
policies:
${apiKeyIdentityYaml(APPS)}
  usage: {journal: ${journal}, store: "${store}", ship_interval: 50ms}
  tracing:
    endpoint: ${collector}
    service_name: sluice-e2e
    batch_size: 20
    queue_size: ${queueSize}
    interval: 50ms
    timeout: ${timeout}
`;
}

const client = (gatewayUrl, app, deployment, headers = {}) => new AzureOpenAI({
  endpoint: gatewayUrl, apiKey: 'unused', apiVersion: GA, deployment, maxRetries: 0,
  defaultHeaders: { 'x-app-key': APPS[app], ...headers },
});

async function metric(gateway, line) {
  const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.split(' ').pop()) : undefined;
}

describe('tracing with a live collector', () => {
  let sim; let front; let throttled; let collector; let gateway; let store;
  const sent = [];  // {id, app, deployment, streamed, usage, traceparent?}
  const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const CALLER_SPAN = '00f067aa0ba902b7';

  before(async () => {
    const dir = tempDir();
    store = join(dir, 'usage.db');
    sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
    front = await startRecorder(sim.url);
    throttled = await startRecorder(sim.url, { failing: true });
    collector = await startReceiver();
    gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig({
      front: front.url, throttled: throttled.url, collector: collector.url, store, journal: join(dir, 'journal'),
    })));

    const messages = [{ role: 'user', content: 'Name three rivers.' }];
    for (const app of Object.keys(APPS)) {
      for (let i = 0; i < 3; i++) {
        const { data, response } = await client(gateway.url, app, 'gpt-4o').chat.completions
          .create({ model: 'gpt-4o', messages, max_tokens: 20 }).withResponse();
        sent.push({ id: response.headers.get('x-sluice-request-id'), app, deployment: 'gpt-4o', streamed: false, usage: data.usage, model: data.model });
      }
      // Streamed, with the usage chunk asked for, so the client knows its own token counts.
      const stream = await client(gateway.url, app, 'gpt-4o').chat.completions.create({
        model: 'gpt-4o', messages, max_tokens: 20, stream: true, stream_options: { include_usage: true },
      }).withResponse();
      let usage;
      let model;
      for await (const chunk of stream.data) {
        if (chunk.usage) usage = chunk.usage;
        if (chunk.model) model = chunk.model;
      }
      sent.push({ id: stream.response.headers.get('x-sluice-request-id'), app, deployment: 'gpt-4o', streamed: true, usage, model });
    }
    // A caller already inside a trace.
    const traced = await client(gateway.url, 'app-a', 'gpt-4o', { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` })
      .chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 5 }).withResponse();
    sent.push({ id: traced.response.headers.get('x-sluice-request-id'), app: 'app-a', deployment: 'gpt-4o', streamed: false, usage: traced.data.usage, model: traced.data.model, caller: true });
    // Through the pool whose first member throttles: one failover each.
    for (let i = 0; i < 2; i++) {
      const { data, response } = await client(gateway.url, 'app-b', 'gpt-fo').chat.completions
        .create({ model: 'gpt-fo', messages, max_tokens: 5 }).withResponse();
      sent.push({ id: response.headers.get('x-sluice-request-id'), app: 'app-b', deployment: 'gpt-fo', streamed: false, usage: data.usage, model: data.model, failover: true });
    }
    await pollUntil(() => collector.spans.filter((s) => s.kind === SpanKind.SPAN_KIND_SERVER).length, (n) => n >= sent.length);
  });

  after(async () => {
    await gateway?.stop();
    await collector?.close();
    await front?.close();
    await throttled?.close();
    await sim?.stop();
  });

  const serverSpan = (id) => collector.spans.find((s) => s.kind === SpanKind.SPAN_KIND_SERVER && s.attributes['sluice.request_id'] === id);
  const children = (span) => collector.spans.filter((s) => s.parentSpanId === span.spanId && s.traceId === span.traceId);

  test('the collector gets one protobuf export schema-valid SERVER span per request, as service sluice-e2e', () => {
    assert.equal(collector.refusedBodies, 0);
    const servers = collector.spans.filter((s) => s.kind === SpanKind.SPAN_KIND_SERVER);
    assert.equal(servers.length, sent.length);
    for (const s of collector.spans) {
      assert.equal(s.resource['service.name'], 'sluice-e2e');
      assert.equal(s.scope, 'sluice.gateway');
      assert.equal(s.traceId.length, 32);
      assert.equal(s.spanId.length, 16);
    }
  });

  test('span attributes match the usage records and what the clients received', async () => {
    const rows = await pollUntil(async () => {
      try { return await storeRows(store, 'request_id,app,deployment,backend,status'); } catch { return []; }
    }, (r) => r.length >= sent.length, { intervalMs: 100 });
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const e of sent) {
      const span = serverSpan(e.id);
      assert.ok(span, `a span for request ${e.id}`);
      const row = byId.get(e.id);
      assert.ok(row, `a usage record for ${e.id}`);
      const a = span.attributes;
      assert.equal(a['gen_ai.operation.name'], 'chat');
      assert.equal(a['gen_ai.request.model'], e.deployment);
      assert.ok(e.model, `the client saw a model for ${e.id}`);
      assert.equal(a['gen_ai.response.model'], e.model);
      assert.equal(a['gen_ai.usage.input_tokens'], row.prompt_tokens);
      assert.equal(a['gen_ai.usage.output_tokens'], row.completion_tokens);
      assert.equal(a['gen_ai.usage.input_tokens'], e.usage.prompt_tokens);
      assert.equal(a['gen_ai.usage.output_tokens'], e.usage.completion_tokens);
      assert.equal(a['sluice.app_id'], row.app);
      assert.equal(a['sluice.app_id'], e.app);
      assert.equal(a['sluice.backend'], row.backend);
      assert.equal(a['http.response.status_code'], 200);
      assert.equal(a['server.address'], '127.0.0.1');
      assert.equal(a['server.port'], Number(new URL(front.url).port));
      assert.equal(a['gen_ai.provider.name'], 'azure.ai.openai');
      assert.equal(a['sluice.streamed'], e.streamed);
      assert.equal(span.name, `chat ${e.deployment}`);
      const firstToken = span.events.filter((ev) => ev.name === 'gen_ai.first_token');
      assert.equal(firstToken.length, e.streamed ? 1 : 0, `first-token event on ${e.streamed ? 'a stream' : 'a plain answer'}`);
      // What a trace backend totals over the request's spans is the usage record, counted once.
      const traced = [span, ...children(span)];
      const total = (key) => traced.reduce((sum, s) => sum + (s.attributes[key] ?? 0), 0);
      assert.equal(total('gen_ai.usage.input_tokens'), row.prompt_tokens, `input tokens over the spans of ${e.id}`);
      assert.equal(total('gen_ai.usage.output_tokens'), row.completion_tokens, `output tokens over the spans of ${e.id}`);
    }
  });

  test('every attempt is a CLIENT child whose span id the backend received in its traceparent', () => {
    const forwarded = new Map(front.seen.concat(throttled.seen).map((s) => [s.traceparent?.split('-')[2], s]));
    for (const e of sent) {
      const span = serverSpan(e.id);
      const attempts = children(span);
      assert.equal(attempts.length, e.failover ? 2 : 1, `attempts of ${e.id}`);
      for (const attempt of attempts) {
        assert.equal(attempt.kind, SpanKind.SPAN_KIND_CLIENT);
        const got = forwarded.get(attempt.spanId);
        assert.ok(got, `the backend got a traceparent naming attempt span ${attempt.spanId}`);
        assert.equal(got.traceparent, `00-${span.traceId}-${attempt.spanId}-01`);
        assert.equal(got.requestId, e.id);
      }
    }
  });

  test('a failover shows the throttled attempt and the one that answered, with their outcomes', () => {
    for (const e of sent.filter((x) => x.failover)) {
      const attempts = children(serverSpan(e.id)).sort((x, y) => x.attributes['sluice.attempt'] - y.attributes['sluice.attempt']);
      assert.deepEqual(attempts.map((a) => a.attributes['sluice.backend']), ['ptu', 'front']);
      assert.deepEqual(attempts.map((a) => a.attributes['sluice.attempt.outcome']), ['failover', 'ok']);
      assert.equal(attempts[0].attributes['http.response.status_code'], 429);
      assert.equal(attempts[0].attributes['sluice.failover_reason'], 'HTTP 429');
      assert.equal(attempts[0].status.code, StatusCode.STATUS_CODE_ERROR);
      assert.equal(attempts[1].attributes['http.response.status_code'], 200);
      assert.equal(serverSpan(e.id).attributes['sluice.attempts'], 2);
    }
  });

  test("the caller's traceparent is continued: same trace id, its span as the parent", () => {
    const e = sent.find((x) => x.caller);
    const span = serverSpan(e.id);
    assert.equal(span.traceId, CALLER_TRACE);
    assert.equal(span.parentSpanId, CALLER_SPAN);
    // Requests without one start their own traces.
    const others = sent.filter((x) => !x.caller).map((x) => serverSpan(x.id));
    assert.ok(others.every((s) => s.traceId !== CALLER_TRACE && s.parentSpanId === ''));
    assert.equal(new Set(others.map((s) => s.traceId)).size, others.length);
  });

  test('/metrics counts exported spans and no drops', async () => {
    const exported = await pollUntil(() => metric(gateway, 'sluice_tracing_spans_exported_total'), (n) => n >= collector.spans.length);
    assert.equal(exported, collector.spans.length);
    assert.equal(await metric(gateway, 'sluice_tracing_spans_dropped_total{reason="queue_full"}'), 0);
    assert.equal(await metric(gateway, 'sluice_tracing_spans_dropped_total{reason="export_failed"}'), 0);
  });

  test('sluice load sends a traceparent under its run prefix with every request', async () => {
    const before = front.seen.length;
    const dir = tempDir('sluice-load-trace-');
    const testFile = writeIn(dir, 'load.yaml', `testId: traced
target: {endpoint: "${gateway.url}", deployment: gpt-4o}
auth: {type: apiKey, header: x-app-key, key: key-for-a}
syntheticPrompt: {tokens: 10, count: 2}
request: {max_tokens: 5}
load: {virtualUsers: 2, loops: 3}
`);
    const r = await runSluice(['load', 'run', testFile, '--out', join(dir, 'out'), '--quiet', '--trace-prefix', '5eed0000000000a1']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const seen = front.seen.slice(before);
    assert.equal(seen.length, 6);
    const loadSpans = await pollUntil(() => collector.spans.filter((s) => s.kind === SpanKind.SPAN_KIND_SERVER && s.traceId.startsWith('5eed0000000000a1')),
      (spans) => spans.length >= 6);
    assert.equal(loadSpans.length, 6);
    assert.equal(new Set(loadSpans.map((s) => s.traceId)).size, 6, 'one trace per request');
    for (const s of loadSpans) assert.notEqual(s.parentSpanId, '', 'the load tester\'s span is the parent');
    for (const got of seen) assert.match(got.traceparent, /^00-5eed0000000000a1[0-9a-f]{16}-[0-9a-f]{16}-01$/);
  });
});

describe('tracing with a collector that is down or stalled', () => {
  let sim; let front; let throttled;

  before(async () => {
    sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
    front = await startRecorder(sim.url);
    throttled = await startRecorder(sim.url, { failing: true });
  });

  after(async () => {
    await front?.close();
    await throttled?.close();
    await sim?.stop();
  });

  async function trafficThrough(collectorUrl, options) {
    const dir = tempDir();
    const gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig({
      front: front.url, throttled: throttled.url, collector: collectorUrl, store: join(dir, 'usage.db'),
      journal: join(dir, 'journal'), ...options,
    })));
    const statuses = [];
    try {
      const jobs = [];
      for (let i = 0; i < 40; i++) {
        jobs.push(client(gateway.url, 'app-a', 'gpt-4o').chat.completions
          .create({ model: 'gpt-4o', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 5 })
          .withResponse().then(({ response }) => statuses.push(response.status)));
        if (jobs.length === 8) await Promise.all(jobs.splice(0));
      }
      await Promise.all(jobs);
      return { gateway, statuses };
    } catch (error) {
      await gateway.stop();
      throw error;
    }
  }

  test('collector down: every request succeeds and the lost spans are counted', async () => {
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    const { gateway, statuses } = await trafficThrough(url, {});
    try {
      assert.equal(statuses.length, 40);
      assert.ok(statuses.every((s) => s === 200));
      // 40 requests × (1 server + 1 attempt span) = 80 spans, all lost, all counted.
      const dropped = await pollUntil(() => metric(gateway, 'sluice_tracing_spans_dropped_total{reason="export_failed"}'), (n) => n >= 80);
      assert.equal(dropped, 80);
      assert.ok(await metric(gateway, 'sluice_tracing_export_failures_total') >= 1);
      assert.equal(await metric(gateway, 'sluice_tracing_spans_exported_total'), 0);
    } finally {
      await gateway.stop();
    }
  });

  test('collector stalled: every request succeeds, the bounded queue drops and counts the rest', async () => {
    const stalled = await startReceiver();
    stalled.mode = 'stall';
    const { gateway, statuses } = await trafficThrough(stalled.url, { queueSize: 20, timeout: '60s' });
    try {
      assert.equal(statuses.length, 40);
      assert.ok(statuses.every((s) => s === 200));
      // One batch (20 spans) hangs at the collector, 20 more fill the queue; the other 40 are dropped.
      await pollUntil(() => stalled.exports, (n) => n >= 1);
      const queueFull = await pollUntil(() => metric(gateway, 'sluice_tracing_spans_dropped_total{reason="queue_full"}'), (n) => n >= 1);
      const queued = await metric(gateway, 'sluice_tracing_spans_queued_total');
      assert.equal(queued + queueFull, 80, 'every span is either queued or counted as dropped');
      assert.ok(queued <= 40, `at most one stalled batch and one full queue were accepted (${queued})`);
      assert.equal(await metric(gateway, 'sluice_tracing_spans_exported_total'), 0);
    } finally {
      await gateway.stop();
      await stalled.close();
    }
  });
});

// The exporter reaches the collector as backends reach theirs: through the top-level `proxy:`
// unless the tracing section names its own or says `none`. tinyproxy (as in proxy.test.mjs, with
// Basic auth, so the credentials must go along) forwards plain http in absolute form, logs each
// request, and adds a Via header the receiver counts: two witnesses that do not depend on each other.
describe('tracing through an HTTP proxy', () => {
  const PROXY_USER = 'traceuser';
  const PROXY_PASSWORD = 'trace-proxy-pw-77';
  let dir; let sim; let proxy; let collector;

  before(async () => {
    dir = tempDir('sluice-trace-proxy-');
    sim = await startSluice(['sim', '--config', writeIn(dir, 'sim.yaml', SIM_CONFIG)]);
    proxy = await startTinyproxy(dir, { user: PROXY_USER, password: PROXY_PASSWORD });
    collector = await startReceiver();
  });

  after(async () => {
    await collector?.close();
    if (proxy) await stopProcess(proxy.process);
    await sim?.stop();
  });

  const exportsInProxyLog = () => proxy.log().split('\n')
    .filter((line) => line.includes(`POST ${collector.url}/v1/traces`)).length;

  // Three requests through a gateway whose backend is reached directly, so the proxy only ever
  // sees exports; resolves once their 6 spans (3 server, 3 attempt) reached the collector.
  async function traceThreeRequests({ topLevelProxy, tracingProxy }) {
    const name = `gateway-${collector.spans.length}.yaml`;
    const gateway = await startGateway(writeIn(dir, name, `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
proxy: "${topLevelProxy}"
backends:
  - {name: sim, url: "${sim.url}", auth: {type: api-key, key: upstream-key}, proxy: none}
pools: [{name: main, members: [{backend: sim}]}]
routes: [{name: main, pool: main}]
policies:
  tracing:
    endpoint: ${collector.url}
    batch_size: 20
    interval: 50ms
    timeout: 5s
${tracingProxy ? `    proxy: "${tracingProxy}"` : ''}
`), { env: NO_PROXY_ENV });
    try {
      const before = collector.spans.length;
      for (let i = 0; i < 3; i++) {
        const answer = await new AzureOpenAI({
          endpoint: gateway.url, apiKey: 'unused', apiVersion: GA, deployment: 'gpt-4o', maxRetries: 0,
        }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 5 });
        assert.ok(answer.usage.total_tokens > 0);
      }
      const spans = await pollUntil(() => collector.spans.length - before, (n) => n >= 6);
      assert.equal(spans, 6, 'three server and three attempt spans arrived');
      assert.equal(await metric(gateway, 'sluice_tracing_export_failures_total'), 0);
      return gateway.output();
    } finally {
      await gateway.stop();
    }
  }

  test('the top-level proxy carries the exports, with its credentials', async () => {
    const [logged, proxied, exports] = [exportsInProxyLog(), collector.proxiedExports, collector.exports];
    const output = await traceThreeRequests({ topLevelProxy: proxy.url });
    assert.ok(exportsInProxyLog() > logged, `no export in tinyproxy's log\n${proxy.log()}`);
    assert.ok(collector.proxiedExports > proxied, 'the exports reached the collector with a Via header');
    assert.equal(collector.proxiedExports - proxied, collector.exports - exports, 'every export came through the proxy');
    // The choice is said at start, password masked.
    assert.match(output.stdout + output.stderr, new RegExp(`tracing: exporting to ${collector.url}/v1/traces via proxy `
      + `http://${PROXY_USER}:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port} \\(from the top-level proxy setting\\)`));
    assert.ok(!output.stdout.includes(PROXY_PASSWORD) && !output.stderr.includes(PROXY_PASSWORD), 'the proxy password leaked');
  });

  test('policies.tracing.proxy: none sends the exports directly', async () => {
    const [logged, proxied, exports] = [exportsInProxyLog(), collector.proxiedExports, collector.exports];
    await traceThreeRequests({ topLevelProxy: proxy.url, tracingProxy: 'none' });
    assert.ok(collector.exports > exports);
    assert.equal(collector.proxiedExports, proxied, 'no export came through a proxy');
    assert.equal(exportsInProxyLog(), logged, 'tinyproxy saw no export');
  });

  test('policies.tracing.proxy: URL is used even when the top level says none', async () => {
    const [logged, proxied, exports] = [exportsInProxyLog(), collector.proxiedExports, collector.exports];
    await traceThreeRequests({ topLevelProxy: 'none', tracingProxy: proxy.url });
    assert.ok(exportsInProxyLog() > logged, `no export in tinyproxy's log\n${proxy.log()}`);
    assert.equal(collector.proxiedExports - proxied, collector.exports - exports, 'every export came through the proxy');
  });
});
