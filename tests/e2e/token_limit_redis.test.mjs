// Token limits across two gateway instances sharing one real redis-server (store: redis), in front
// of one `sluice sim`. The test starts redis-server itself (Debian package `redis-server`; the test
// fails, never skips, without it), kills it mid-run to exercise both failure modes (gateway A
// fails open with a local fallback budget, gateway B fails closed) and restarts it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { AzureOpenAI } from 'openai';
import { encoding_for_model } from 'tiktoken';

import {
  chatPromptTokens, freePort, pollUntil, postChat, resetSimUsage, simUsage, startRedis, startSluice, stopProcess,
  tempFile,
} from './helpers.mjs';

const API_VERSION = '2024-10-21';
const LIMIT = 3000;
const FALLBACK = 300;
let o200k;
let sim;
let redis;
let redisPort;
let gatewayA;
let gatewayB;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 5
deployments:
  long: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
  short: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 400, natural_length: 24}
  quota: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(simUrl, prefix, onFailure) {
  const fallback = onFailure === 'fail_open' ? `, fallback_tokens_per_minute: ${FALLBACK}` : '';
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
backends:
  - {name: sim, url: "${simUrl}", auth: {type: api-key, key: upstream-key}}
pools:
  - {name: sim, members: [{backend: sim}], breaker: {failures: 1000}, retry: {max_attempts: 1}}
routes:
  - {name: main, match: {deployments: [long, short]}, pool: sim}
  - name: quota
    match: {deployments: [quota]}
    pool: sim
    policies:
      token_limit:
        limits: [{name: team-daily, counter_key: 'header:x-team', token_quota: 600, token_quota_period: daily}]
        store: redis
        redis: {url: "redis://127.0.0.1:${redisPort}", timeout: 10s, key_prefix: "${prefix}", on_failure: ${onFailure}, retry_interval: 500ms${fallback}}
policies:
  token_limit:
    limits:
      - {name: per-team, counter_key: 'header:x-team', tokens_per_minute: ${LIMIT}, default_completion_tokens: 100}
    store: redis
    redis: {url: "redis://127.0.0.1:${redisPort}", timeout: 10s, pool_size: 4, key_prefix: "${prefix}", on_failure: ${onFailure}, retry_interval: 500ms${fallback}}
`;
}

const promptTokens = (messages) => chatPromptTokens(o200k, messages);

function chat(gateway, deployment, team, body) {
  return postChat(gateway.url, deployment, body, { 'x-team': team });
}

// The team's remaining tokens per minute as `gateway` sees them, read from a request too large for
// any minute: refused before the backend, it charges nothing and can be repeated while waiting.
async function remainingTokens(gateway, deployment, team) {
  const res = await chat(gateway, deployment, team, { messages: [{ role: 'user', content: 'probe' }], max_tokens: 100000 });
  await res.text();
  assert.equal(res.status, 429);
  return Number(res.headers.get('x-ratelimit-remaining-tokens'));
}

before(async () => {
  o200k = encoding_for_model('gpt-4o');
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  const prefix = `e2e-${process.pid}-${Date.now()}:`;
  gatewayA = await startSluice(['gateway', '--config', tempFile('a.yaml', gatewayConfig(sim.url, prefix, 'fail_open'))]);
  gatewayB = await startSluice(['gateway', '--config', tempFile('b.yaml', gatewayConfig(sim.url, prefix, 'fail_closed'))]);
});

after(async () => {
  await gatewayA?.stop();
  await gatewayB?.stop();
  await sim?.stop();
  if (redis) await stopProcess(redis);
});

test('two gateways share one budget: what A admitted, B does not admit again', async () => {
  const messages = [{ role: 'user', content: 'shared budget' }];
  const reserved = promptTokens(messages) + 150;
  const total = Math.floor(LIMIT / reserved);
  const first = Math.floor(total / 2);
  const viaA = await Promise.all(Array.from({ length: first }, () =>
    chat(gatewayA, 'long', 'shared', { messages, max_tokens: 150 })));
  assert.deepEqual(viaA.map((r) => r.status), Array(first).fill(200));
  await Promise.all(viaA.map((r) => r.json()));
  const viaB = await Promise.all(Array.from({ length: 40 }, () =>
    chat(gatewayB, 'long', 'shared', { messages, max_tokens: 150 })));
  await Promise.all(viaB.map((r) => r.json()));
  assert.equal(viaB.filter((r) => r.status === 200).length, total - first, 'B admits only what A left');
  assert.equal(viaB.filter((r) => r.status === 429).length, 40 - (total - first));
});

test('concurrent clients on both gateways get exactly the limit between them', async () => {
  await resetSimUsage(sim);
  const messages = [{ role: 'user', content: 'mixed burst' }];
  const reserved = promptTokens(messages) + 150;
  const responses = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    chat(i % 2 ? gatewayA : gatewayB, 'long', 'mixed', { messages, max_tokens: 150 })));
  const bodies = await Promise.all(responses.map((r) => r.json()));
  const ok = responses.filter((r) => r.status === 200);
  assert.equal(ok.length + responses.filter((r) => r.status === 429).length, 60,
    `statuses: ${responses.map((r) => r.status).join(',')}`);
  assert.equal(ok.length, Math.floor(LIMIT / reserved), 'one budget, not one per instance');
  let used = 0;
  bodies.forEach((b, i) => { if (responses[i].status === 200) used += b.usage.total_tokens; });
  assert.ok(used <= LIMIT, `${used} admitted`);
  const served = (await simUsage(sim)).deployments.long.total_tokens;
  assert.equal(served, used, 'the backend served exactly what the gateways admitted');
});

test('a stream through one gateway is reconciled in Redis; the other gateway sees it', async () => {
  const messages = [{ role: 'user', content: 'stream through A' }];
  const client = new AzureOpenAI({ endpoint: gatewayA.url, apiKey: 'unused', apiVersion: API_VERSION,
    deployment: 'short', maxRetries: 0, defaultHeaders: { 'x-team': 'streamer' } });
  const { data: stream, response } = await client.chat.completions
    .create({ messages, max_tokens: 800, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(response.headers.get('x-ratelimit-remaining-tokens'), String(LIMIT - promptTokens(messages) - 800));
  let usage = null;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.equal(usage.completion_tokens, 24);
  // Settled in Redis just after the stream's last byte; B sees it then.
  const settled = LIMIT - usage.total_tokens;
  assert.equal(await pollUntil(() => remainingTokens(gatewayB, 'short', 'streamer'), (n) => n === settled), settled);
  const next = [{ role: 'user', content: 'then B' }];
  const res = await chat(gatewayB, 'short', 'streamer', { messages: next, max_tokens: 10 });
  assert.equal(res.status, 200);
  await res.json();
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens'),
    String(LIMIT - usage.total_tokens - promptTokens(next) - 10));
});

test('a quota is shared too: what A used counts on B (403)', async () => {
  const messages = [{ role: 'user', content: 'quota' }];
  const reserved = promptTokens(messages) + 200;
  const first = await chat(gatewayA, 'quota', 'q', { messages, max_tokens: 200 });
  assert.equal(first.status, 200);
  await first.json();
  const second = await chat(gatewayB, 'quota', 'q', { messages, max_tokens: 200 });
  assert.equal(second.status, 200);
  await second.json();
  assert.equal(second.headers.get('x-ratelimit-remaining-quota'), String(600 - 2 * reserved));
  const refused = await chat(gatewayA, 'quota', 'q', { messages, max_tokens: 200 });
  assert.equal(refused.status, 403);
  assert.match((await refused.json()).error.message, /^Token quota of 600 for period daily exceeded/);
});

test('Redis down: A fails open within its local fallback budget, B fails closed; both recover', async () => {
  await stopProcess(redis, 0);
  redis = null;
  const messages = [{ role: 'user', content: 'outage' }];
  const reserved = promptTokens(messages) + 100;  // the sim writes all of max_tokens: no release
  const admittedByA = [];
  for (let i = 0; i < 4; i++) {
    const res = await chat(gatewayA, 'long', 'outage', { messages, max_tokens: 100 });
    await res.json();
    admittedByA.push(res.status);
  }
  const fits = Math.floor(FALLBACK / reserved);
  assert.deepEqual(admittedByA, [...Array(fits).fill(200), ...Array(4 - fits).fill(429)]);
  const closed = await chat(gatewayB, 'long', 'outage', { messages });
  assert.equal(closed.status, 503);
  assert.equal((await closed.json()).error.code, 'token_limit_unavailable');
  assert.ok(Number(closed.headers.get('retry-after')) >= 1);

  redis = await startRedis(redisPort);
  // After a retry interval both use Redis again; the fresh server has no counts. Until then B
  // refuses (503) and A uses its fallback budget.
  const reservedAfter = promptTokens(messages) + 10;
  const fromB = [];
  const recovered = await pollUntil(async () => {
    const res = await chat(gatewayB, 'long', 'after-outage', { messages, max_tokens: 10 });
    await res.json();
    fromB.push(res.status);
    return res;
  }, (res) => res.status === 200, { intervalMs: 100 });
  assert.equal(recovered.status, 200, 'B recovered after Redis restarted');
  assert.deepEqual(fromB.slice(0, -1).filter((s) => s !== 503), [], `B before it recovered: ${fromB}`);
  assert.equal(recovered.headers.get('x-ratelimit-remaining-tokens'), String(LIMIT - reservedAfter));
  const fromA = await pollUntil(async () => {
    const res = await chat(gatewayA, 'long', 'after-outage', { messages, max_tokens: 10 });
    await res.json();
    return res.headers.get('x-ratelimit-remaining-tokens');
  }, (remaining) => remaining === String(LIMIT - 2 * reservedAfter), { intervalMs: 100 });
  assert.equal(fromA, String(LIMIT - 2 * reservedAfter), 'A counts in Redis again (not in its fallback budget)');
});
