// `sluice load` through `sluice gateway` to `sluice sim`: every request the load tester counts
// reaches the backend once, tokens agree with the backend's own accounting, and the gateway's
// Prometheus metrics are scraped into the results as server-side metrics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { runSluice, simUsage, startGateway, startSluice, tempDir, tempFile, writeIn } from './helpers.mjs';

let sim;
let gateway;

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', `
listen: {address: 127.0.0.1, port: 0, threads: 1}
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 100000000, time_to_first_token: 30ms, tokens_per_second: 500, natural_length: 16}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`)]);
  gateway = await startGateway(tempFile('gateway.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: sim, url: "${sim.url}", auth: {type: api-key, key: upstream-key}}
pools:
  - {name: chat, members: [{backend: sim}]}
routes:
  - {name: chat, match: {deployments: [gpt-4o]}, pool: chat}
`));
});

after(async () => {
  await gateway?.stop();
  await sim?.stop();
});

test('load through the gateway: counts reconcile with the backend, gateway metrics scraped', async () => {
  const dir = tempDir('sluice-load-gw-');
  const testFile = writeIn(dir, 'gw.yaml', `testId: through-gateway
failureCriteria: ["percentage(error) > 0"]
target: {endpoint: "${gateway.url}", deployment: gpt-4o}
auth: {type: apiKey, key: client-key}
syntheticPrompt: {tokens: 30, count: 5}
request: {max_tokens: 12, stream: true}
serverMetrics:
  - {name: gateway, url: "${gateway.admin}/metrics", interval: 200ms, maxSeries: 20}
load: {virtualUsers: 3, loops: 5}
`);
  const out = join(dir, 'out');
  const r = await runSluice(['load', 'run', testFile, '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(res.summary.requests, 15);
  assert.equal(res.summary.errors, 0);
  const usage = await simUsage(sim);
  assert.equal(usage.total.requests, 15);
  // No stream_options asked: the response carries no usage for the client, so the load tester
  // counts with its tokenizer; the simulator's exact figures must agree.
  assert.equal(res.summary.completion_tokens, usage.total.completion_tokens);
  assert.equal(res.summary.prompt_tokens, usage.total.prompt_tokens);
  assert.ok(res.server_metrics.length > 0, 'gateway metrics were scraped');
  assert.ok(res.server_metrics.every((s) => s.target === 'gateway'));
});
