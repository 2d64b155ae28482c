// The exact response cache end to end: the official openai client talks to `sluice gateway`
// (cache policy on, API-key identity for two apps, usage records in SQLite) in front of
// `sluice sim`. The simulator's own count says how many requests reached a backend; the
// x-sluice-cache header, the metrics and the usage records say what the cache did.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  apiKeyIdentityYaml, fetchWithTimeout, simGatewayYaml, pollUntil, postChat, resetSimUsage, simUsage, sluiceBin, startGateway, startSluice,
  firstMetricValue, tempDir, tempFile,
} from './helpers.mjs';
import { waitForRows } from '../integration/usage_support.mjs';

const API_VERSION = '2024-10-21';
const APPS = { 'app-a': 'key-for-a', 'app-b': 'key-for-b' };
let sim, gateway, store;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 21
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 30}
  brief: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 30}
  small: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 60}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(simUrl, journal, dbFile) {
  return `${simGatewayYaml(simUrl, { threads: 2 })}routes:
  - {name: main, match: {deployments: [gpt-4o]}, pool: sim}
  - name: brief
    match: {deployments: [brief]}
    pool: sim
    policies:
      cache: {ttl: 1s}
policies:
${apiKeyIdentityYaml(APPS)}
  cache: {ttl: 10m}
  usage: {journal: ${journal}, store: "${dbFile}", ship_interval: 50ms}
`;
}

function client(app, deployment = 'gpt-4o') {
  return new AzureOpenAI({
    endpoint: gateway.url, apiKey: 'unused', apiVersion: API_VERSION, deployment, maxRetries: 0,
    defaultHeaders: { 'x-app-key': APPS[app] },
  });
}

async function chat(app, body, deployment = 'gpt-4o') {
  const { data, response } = await client(app, deployment).chat.completions
    .create({ model: deployment, temperature: 0, ...body }).withResponse();
  return { data, cache: response.headers.get('x-sluice-cache') };
}

// A streamed chat: the text, the usage chunk (or null), and the cache header.
async function streamChat(app, body, deployment = 'gpt-4o') {
  const { data: stream, response } = await client(app, deployment).chat.completions
    .create({ model: deployment, temperature: 0, stream: true, ...body }).withResponse();
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, usage, finish, cache: response.headers.get('x-sluice-cache') };
}

async function simRequests(deployment) {
  return (await simUsage(sim)).deployments[deployment]?.requests ?? 0;
}

const metric = (name, admin = gateway.admin) => firstMetricValue(admin, name);

const ask = (content) => ({ messages: [{ role: 'user', content }] });

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  const dir = tempDir();
  store = join(dir, 'usage.db');
  gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(sim.url, join(dir, 'journal'), store)));
});

after(async () => {
  await gateway?.stop();
  await sim?.stop();
});

describe('exact cache', () => {
  test('an identical request is answered from the cache: the simulator sees one call', async () => {
    await resetSimUsage(sim);
    const first = await chat('app-a', ask('What is a sluice gate?'));
    // The same request with other key order, whitespace and a `user`: the same key.
    const res = await postChat(gateway.url, 'gpt-4o', {
      user: 'someone', temperature: 0.0, messages: [{ content: 'What is a sluice gate?', role: 'user' }],
      model: 'gpt-4o',
    }, { 'x-app-key': APPS['app-a'] });
    const second = await res.json();
    assert.equal(first.cache, 'miss');
    assert.equal(res.headers.get('x-sluice-cache'), 'hit');
    assert.equal(second.choices[0].message.content, first.data.choices[0].message.content);
    assert.deepEqual(second.usage, first.data.usage);
    assert.equal(await simRequests('gpt-4o'), 1);
  });

  test('another app asking the same misses', async () => {
    await resetSimUsage(sim);
    const a = await chat('app-a', ask('Tell me about weirs.'));
    const b = await chat('app-b', ask('Tell me about weirs.'));
    const a2 = await chat('app-a', ask('Tell me about weirs.'));
    assert.deepEqual([a.cache, b.cache, a2.cache], ['miss', 'miss', 'hit']);
    assert.equal(await simRequests('gpt-4o'), 2);
  });

  test('a streaming request is served from a cached answer as SSE, usage only when asked', async () => {
    await resetSimUsage(sim);
    const plain = await chat('app-a', ask('Explain locks on a canal.'));
    const withUsage = await streamChat('app-a', { ...ask('Explain locks on a canal.'), stream_options: { include_usage: true } });
    const without = await streamChat('app-a', ask('Explain locks on a canal.'));
    assert.equal(withUsage.cache, 'hit');
    assert.equal(without.cache, 'hit');
    assert.equal(withUsage.text, plain.data.choices[0].message.content);
    assert.equal(without.text, plain.data.choices[0].message.content);
    assert.equal(withUsage.finish, plain.data.choices[0].finish_reason);
    assert.deepEqual(withUsage.usage, plain.data.usage);
    assert.equal(without.usage, null);
    assert.equal(await simRequests('gpt-4o'), 1);
  });

  test('a streamed answer is kept once it ended and serves plain requests', async () => {
    await resetSimUsage(sim);
    const streamed = await streamChat('app-b', { ...ask('Why do rivers meander?'), stream_options: { include_usage: true } });
    assert.equal(streamed.cache, 'miss');
    const plain = await pollUntil(() => chat('app-b', ask('Why do rivers meander?')), (r) => r.cache === 'hit');
    assert.equal(plain.data.choices[0].message.content, streamed.text);
    assert.deepEqual(plain.data.usage, streamed.usage);
    assert.equal(await simRequests('gpt-4o'), 1);
  });

  test('Cache-Control no-cache skips the lookup; sampling requests are not cached', async () => {
    await resetSimUsage(sim);
    await chat('app-a', ask('What is a spillway?'));
    const res = await postChat(gateway.url, 'gpt-4o', { ...ask('What is a spillway?'), temperature: 0 },
      { 'x-app-key': APPS['app-a'], 'cache-control': 'no-cache' });
    await res.json();
    assert.equal(res.headers.get('x-sluice-cache'), 'miss');
    const s1 = await chat('app-a', { ...ask('Name a river.'), temperature: 0.7 });
    const s2 = await chat('app-a', { ...ask('Name a river.'), temperature: 0.7 });
    assert.deepEqual([s1.cache, s2.cache], ['bypass', 'bypass']);
    assert.equal(await simRequests('gpt-4o'), 4);
  });

  test('a body the cache cannot normalise still goes to the backend', async () => {
    await resetSimUsage(sim);
    // Deeper than the cache's JSON parser goes (32 levels); valid for the gateway and the backend.
    let deep = 'x';
    for (let i = 0; i < 40; i++) deep = [deep];
    const before = await metric('sluice_cache_bypassed_total{reason="unparsable"}');
    const res = await postChat(gateway.url, 'gpt-4o', { ...ask('deep'), temperature: 0, metadata_blob: deep },
      { 'x-app-key': APPS['app-a'] });
    await res.text();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-sluice-cache'), 'bypass');
    assert.equal(await simRequests('gpt-4o'), 1);
    assert.equal(await metric('sluice_cache_bypassed_total{reason="unparsable"}'), before + 1);
  });

  test('entries expire with their TTL', async () => {
    await resetSimUsage(sim);
    const first = await chat('app-a', ask('How old is the oldest dam?'), 'brief');
    assert.equal(first.cache, 'miss');
    // Asked until the entry is gone (TTL 1s): then the answer comes from the backend again.
    await pollUntil(() => chat('app-a', ask('How old is the oldest dam?'), 'brief'), (r) => r.cache === 'miss',
      { intervalMs: 200 });
    assert.ok(await metric('sluice_cache_expirations_total') >= 1);
    assert.equal(await simRequests('brief'), 2);
  });

  test('a hit is one usage record with cache=exact, tokens_saved and no backend tokens', async () => {
    // One row per request; a hit's row counts one cache hit.
    const rows = await waitForRows(store, (r) => r.some((row) => row.cache_hits === 1));
    const hits = rows.filter((row) => row.cache_hits === 1);
    assert.ok(hits.length >= 1);
    for (const row of hits) {
      assert.equal(row.requests, 1);
      assert.equal(row.total_tokens, 0);
      assert.equal(row.backend, '');
      assert.ok(row.tokens_saved > 0);
      assert.equal(row.status, '200');
    }
    const report = JSON.parse(execFileSync(sluiceBin,
      ['usage', 'report', '--store', store, '--by', 'app,deployment', '--since', '24h', '--format', 'json'],
      { encoding: 'utf8' }));
    const a = report.rows.find((r) => r.app === 'app-a' && r.deployment === 'gpt-4o');
    assert.ok(a.cache_hits >= 1);
    assert.ok(a.tokens_saved > 0);
    assert.equal(a.hit_ratio, a.cache_hits / a.requests);
    const table = execFileSync(sluiceBin, ['usage', 'report', '--store', store, '--by', 'app', '--since', '24h'],
      { encoding: 'utf8' });
    assert.match(table, /cache_hits\s+hit_pct\s+tokens_saved/);
  });
});

describe('byte bound', () => {
  let small;

  before(async () => {
    small = await startGateway(tempFile('small.yaml', `${simGatewayYaml(sim.url)}routes:
  - {name: small, match: {deployments: [small]}, pool: sim}
policies:
  cache: {max_bytes: 4KiB, vary_by: none}
`));
  });

  after(async () => { await small?.stop(); });

  test('the store stays within max_bytes, evicting the least recently used', async () => {
    const smallClient = new AzureOpenAI({
      endpoint: small.url, apiKey: 'unused', apiVersion: API_VERSION, deployment: 'small', maxRetries: 0,
    });
    const ask1 = async (i) => {
      const { response } = await smallClient.chat.completions
        .create({ model: 'small', temperature: 0, ...ask(`Question number ${i}?`) }).withResponse();
      return response.headers.get('x-sluice-cache');
    };
    for (let i = 0; i < 12; i++) assert.equal(await ask1(i), 'miss');
    assert.ok(await metric('sluice_cache_bytes', small.admin) <= 4096);
    assert.ok(await metric('sluice_cache_evictions_total', small.admin) >= 1);
    const entries = await metric('sluice_cache_entries', small.admin);
    assert.ok(entries >= 1 && entries < 12, `entries ${entries}`);
    assert.equal(await ask1(11), 'hit');   // the most recent is kept
    assert.equal(await ask1(0), 'miss');   // the oldest went first
    // The exposition stays valid Prometheus text with the cache's metrics in it.
    const text = await (await fetchWithTimeout(`${small.admin}/metrics`)).text();
    assert.match(text, /^sluice_cache_bypassed_total\{reason="sampling"\} \d+$/m);
    // Every one of the 14 requests was looked up once, in the in-process store.
    assert.match(text, /^sluice_cache_lookup_seconds_count\{store="memory"\} 14$/m);
    execFileSync('sh', ['-c', `promtool check metrics < "${tempFile('metrics.txt', text)}"`], { stdio: 'pipe' });
  });
});
