// The semantic cache end to end: the official openai client talks to `sluice gateway` (cache
// policy with `semantic` on, API-key identity for two apps, usage records in SQLite) in front of
// `sluice sim`, whose embeddings place paraphrases close and unrelated texts far. The simulator's
// own count says how many chat requests reached a backend; the x-sluice-cache headers, the
// metrics and the usage records say what the cache did.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  apiKeyIdentityYaml, pollUntil, resetSimUsage, setSimFault, simUsage, startGateway, startSluice,
  firstMetricValue, tempDir, tempFile,
} from './helpers.mjs';
import { storeRows } from '../integration/usage_support.mjs';

const API_VERSION = '2024-10-21';
const APPS = { 'app-a': 'key-for-a', 'app-b': 'key-for-b' };
let sim, gateway, store;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 21
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 30}
  emb: {model: text-embedding-3-small, tokens_per_minute: 0, time_to_first_token: 0ms}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

// The embeddings go through their own backend entry and pool, as a deployment would have them:
// a failing embeddings deployment opens its own breaker, never the chat backend's.
function gatewayConfig(simUrl, journal, dbFile) {
  return `listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: sim, url: "${simUrl}", auth: {type: api-key, key: upstream-key}}
  - {name: sim-embeddings, url: "${simUrl}", auth: {type: api-key, key: upstream-key}}
pools:
  - {name: sim, members: [{backend: sim}]}
  - {name: embeddings, members: [{backend: sim-embeddings}]}
routes:
  - {name: embeddings, match: {deployments: [emb]}, pool: embeddings}
  - {name: main, match: {deployments: [gpt-4o]}, pool: sim}
policies:
${apiKeyIdentityYaml(APPS)}
  cache:
    ttl: 10m
    semantic: {embeddings_deployment: emb, threshold: 0.75, timeout: 300ms}
  usage: {journal: ${journal}, store: "${dbFile}", ship_interval: 50ms}
`;
}

function client(app) {
  return new AzureOpenAI({
    endpoint: gateway.url, apiKey: 'unused', apiVersion: API_VERSION, deployment: 'gpt-4o', maxRetries: 0,
    defaultHeaders: { 'x-app-key': APPS[app] },
  });
}

async function chat(app, messages) {
  const { data, response } = await client(app).chat.completions
    .create({ model: 'gpt-4o', temperature: 0, messages }).withResponse();
  return {
    data, cache: response.headers.get('x-sluice-cache'),
    similarity: response.headers.get('x-sluice-cache-similarity'),
  };
}

async function streamChat(app, messages, extra = {}) {
  const { data: stream, response } = await client(app).chat.completions
    .create({ model: 'gpt-4o', temperature: 0, stream: true, messages, ...extra }).withResponse();
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

const metric = (name) => firstMetricValue(gateway.admin, name);

const user = (content) => [{ role: 'user', content }];

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

describe('semantic cache', () => {
  test('a paraphrase is a semantic hit above the threshold: the simulator counts one chat call', async () => {
    await resetSimUsage(sim);
    const first = await chat('app-a', user('What is the capital of France?'));
    const paraphrase = await chat('app-a', user('Which city is the capital of France?'));
    assert.equal(first.cache, 'miss');
    assert.equal(paraphrase.cache, 'semantic-hit');
    const similarity = Number(paraphrase.similarity);
    assert.ok(similarity >= 0.75 && similarity < 1, `similarity ${paraphrase.similarity}`);
    assert.equal(paraphrase.data.choices[0].message.content, first.data.choices[0].message.content);
    assert.deepEqual(paraphrase.data.usage, first.data.usage);
    assert.equal(await simRequests('gpt-4o'), 1);
    assert.equal(await simRequests('emb'), 2);  // each question was embedded once
    assert.ok(await metric('sluice_cache_semantic_hits_total') >= 1);
  });

  test('an unrelated prompt misses', async () => {
    await resetSimUsage(sim);
    const first = await chat('app-a', user('How do I bake sourdough bread?'));
    const other = await chat('app-a', user('What is the capital of Germany?'));
    assert.deepEqual([first.cache, other.cache], ['miss', 'miss']);
    assert.equal(await simRequests('gpt-4o'), 2);
  });

  test('another app asking the same question in other words misses', async () => {
    await resetSimUsage(sim);
    const a = await chat('app-a', user('Explain how a canal lock works.'));
    const b = await chat('app-b', user('Explain how canal locks work.'));
    const a2 = await chat('app-a', user('Explain how canal locks work.'));
    assert.deepEqual([a.cache, b.cache, a2.cache], ['miss', 'miss', 'semantic-hit']);
    assert.equal(await simRequests('gpt-4o'), 2);
  });

  test('the same last message after a different conversation misses', async () => {
    await resetSimUsage(sim);
    const trip = [{ role: 'user', content: 'I am planning a trip.' }, { role: 'assistant', content: 'Lovely!' }];
    const work = [{ role: 'user', content: 'I am writing a report.' }, { role: 'assistant', content: 'Sure.' }];
    const first = await chat('app-a', [...trip, { role: 'user', content: 'What should I see in Rome?' }]);
    const sameConversation = await chat('app-a', [...trip, { role: 'user', content: 'What sights should I see in Rome?' }]);
    const otherConversation = await chat('app-a', [...work, { role: 'user', content: 'What should I see in Rome?' }]);
    assert.deepEqual([first.cache, sameConversation.cache, otherConversation.cache], ['miss', 'semantic-hit', 'miss']);
    assert.equal(await simRequests('gpt-4o'), 2);
  });

  test('a streamed semantic hit is parsed by the SDK, with the exact usage when asked', async () => {
    await resetSimUsage(sim);
    const plain = await chat('app-b', user('Why do rivers meander?'));
    const withUsage = await streamChat('app-b', user('Why do the rivers meander?'), { stream_options: { include_usage: true } });
    const without = await streamChat('app-b', user('why do rivers meander'));
    assert.equal(withUsage.cache, 'semantic-hit');
    assert.equal(without.cache, 'semantic-hit');
    assert.equal(withUsage.text, plain.data.choices[0].message.content);
    assert.equal(withUsage.finish, plain.data.choices[0].finish_reason);
    assert.deepEqual(withUsage.usage, plain.data.usage);
    assert.equal(without.usage, null);
    assert.equal(await simRequests('gpt-4o'), 1);
  });

  test('a semantic hit and each embedding call are usage records of their own', async () => {
    // Give the shipper time to write every record so far into the store.
    const rows = await pollUntil(async () => {
      try {
        return await storeRows(store, 'request_id,app,deployment,operation,purpose,cache');
      } catch {
        return [];
      }
    }, (r) => r.some((row) => row.cache === 'semantic') && r.some((row) => row.purpose === 'cache_lookup'),
    { intervalMs: 100 });
    const lookups = rows.filter((row) => row.purpose === 'cache_lookup');
    assert.ok(lookups.length >= 2);
    for (const row of lookups) {
      assert.equal(row.operation, 'embeddings');
      assert.equal(row.deployment, 'emb');
      assert.ok(['app-a', 'app-b'].includes(row.app), `charged to the caller, not ${row.app}`);
      assert.ok(row.prompt_tokens > 0);
      assert.equal(row.cache, '');
    }
    const hits = rows.filter((row) => row.cache === 'semantic');
    for (const row of hits) {
      assert.equal(row.total_tokens, 0);
      assert.ok(row.tokens_saved > 0);
      assert.equal(row.cache_hits, 1);
    }
  });
});

// Last: the erroring deployment leaves the embeddings backend's breaker open (the slow one,
// abandoned as a client that left, does not count against it).
describe('when the embeddings deployment fails', () => {
  after(async () => { await setSimFault(sim, null); });

  test('an embeddings deployment that is too slow: the request is still answered by the backend', async () => {
    await resetSimUsage(sim);
    await setSimFault(sim, { deployment: 'emb', latency_spike_ms: 3000, spike_rate: 1 });
    const before = await metric('sluice_cache_semantic_embedding_failures_total');
    const answer = await chat('app-b', user('What is the longest river?'));
    assert.equal(answer.cache, 'miss');
    assert.ok(answer.data.choices[0].message.content.length > 0);
    assert.equal(await simRequests('gpt-4o'), 1);
    assert.equal(await metric('sluice_cache_semantic_embedding_failures_total'), before + 1);
  });

  test('an embeddings deployment that errors: the request is still answered by the backend', async () => {
    await resetSimUsage(sim);
    await setSimFault(sim, { deployment: 'emb', error_rate: 1, status_codes: [500] });
    const before = await metric('sluice_cache_semantic_embedding_failures_total');
    const answer = await chat('app-a', user('What is the tallest mountain?'));
    assert.equal(answer.cache, 'miss');
    assert.ok(answer.data.choices[0].message.content.length > 0);
    assert.equal(await simRequests('gpt-4o'), 1);
    assert.equal(await metric('sluice_cache_semantic_embedding_failures_total'), before + 1);
  });
});
