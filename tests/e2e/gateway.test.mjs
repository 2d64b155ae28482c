// The gateway end to end: the official openai npm client (AzureOpenAI and OpenAI) through
// `sluice gateway` to two `sluice sim` instances (a primary and a secondary region).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AzureOpenAI, OpenAI } from 'openai';
import {
  fetchWithTimeout, pollUntil, setSimFault, sleep, startGateway, startSluice, tempFile,
} from './helpers.mjs';

const API_VERSION = '2024-10-21';
let primary, secondary, gateway;

function simConfig(region, tps) {
  return `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 7
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 10000000, time_to_first_token: 20ms, tokens_per_second: ${tps}, region: ${region}, natural_length: 24}
  embedding: {model: text-embedding-3-small, tokens_per_minute: 10000000, embedding_dimensions: 64, region: ${region}}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;
}

function gatewayConfig(primaryUrl, secondaryUrl) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: primary, url: "${primaryUrl}", auth: {type: api-key, key: upstream-key}, timeouts: {stream_idle: 300s}}
  - {name: secondary, url: "${secondaryUrl}", auth: {type: api-key, key: upstream-key}, timeouts: {stream_idle: 300s}}
pools:
  - name: chat
    members: [{backend: primary, priority: 1}, {backend: secondary, priority: 2}]
    breaker: {failures: 2, interval: 60s, trip_duration: 30s, honor_retry_after: true}
    retry: {max_attempts: 3, max_time: 20s}
  - name: secondary-only
    members: [{backend: secondary}]
routes:
  - {name: chat, match: {deployments: [gpt-4o]}, pool: chat}
  - {name: embeddings, match: {deployments: [embedding]}, pool: secondary-only}
`;
}

const setFault = setSimFault;

async function backends() {
  const res = await fetchWithTimeout(`${gateway.admin}/admin/backends`);
  return (await res.json()).backends;
}

function azure() {
  return new AzureOpenAI({ endpoint: gateway.url, apiKey: 'client-key', apiVersion: API_VERSION, maxRetries: 0 });
}

before(async () => {
  primary = await startSluice(['sim', '--config', tempFile('primary.yaml', simConfig('swedencentral', 400))]);
  secondary = await startSluice(['sim', '--config', tempFile('secondary.yaml', simConfig('eastus', 400))]);
  gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(primary.url, secondary.url)));
});

after(async () => {
  await gateway?.stop();
  await primary?.stop();
  await secondary?.stop();
});

test('chat completion through the gateway (AzureOpenAI)', async () => {
  const { data, response } = await azure().chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 10 })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.usage.completion_tokens, 10);
  assert.equal(data.choices[0].finish_reason, 'length');
  assert.equal(response.headers.get('x-ms-region'), 'swedencentral', 'the primary serves when healthy');
  assert.ok(response.headers.get('x-request-id'));
});

test('chat completion through the OpenAI v1 route (OpenAI class)', async () => {
  const client = new OpenAI({ baseURL: `${gateway.url}/openai/v1`, apiKey: 'client-key', maxRetries: 0 });
  const data = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 });
  assert.equal(data.usage.completion_tokens, 5);
});

test('streaming without include_usage: the client never sees the usage chunk the gateway asked for', async () => {
  const stream = await azure().chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: 'Count' }], max_tokens: 8, stream: true,
  });
  let text = '';
  let sawUsage = false;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) sawUsage = true;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(chunks >= 8);
  assert.ok(text.length > 0);
  assert.equal(sawUsage, false);
});

test('streaming with include_usage: the client gets its usage chunk', async () => {
  const stream = await azure().chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: 'Count' }], max_tokens: 6, stream: true,
    stream_options: { include_usage: true },
  });
  let usage = null;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.ok(usage, 'usage chunk relayed');
  assert.equal(usage.completion_tokens, 6);
});

test('embeddings through the gateway', async () => {
  const data = await azure().embeddings.create({ model: 'embedding', input: ['a cat', 'a dog'] });
  assert.equal(data.data.length, 2);
  assert.equal(data.data[0].embedding.length, 64);
  assert.ok(data.usage.prompt_tokens > 0);
});

test('bad requests get OpenAI-style errors', async () => {
  const bad = await fetchWithTimeout(`${gateway.url}/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages": [',
  });
  assert.equal(bad.status, 400);
  const badError = (await bad.json()).error;
  assert.equal(badError.type, 'invalid_request_error');
  assert.equal(badError.code, null, 'as OpenAI and Azure answer a body they cannot parse');
  assert.equal(badError.message, 'The request body is not valid JSON: unexpected end of input at byte 14.');
  const unknown = await fetchWithTimeout(`${gateway.url}/openai/deployments/nope/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages": []}',
  });
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.code, 'DeploymentNotFound');
});

test('throttled primary: clients still get 200s from the secondary; the breaker trips and recovers', async () => {
  await setFault(primary, { deployment: 'gpt-4o', throttle: true });
  try {
    for (let i = 0; i < 4; i++) {
      const { data, response } = await azure().chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: `req ${i}` }], max_tokens: 3 })
        .withResponse();
      assert.equal(data.usage.completion_tokens, 3);
      assert.equal(response.headers.get('x-ms-region'), 'eastus', 'spilled to the secondary');
    }
    const primaryState = (await backends()).find((b) => b.name === 'primary').pools[0];
    assert.ok(primaryState.breaker_trips >= 1, 'two 429s within the interval trip it');
    // The simulator said retry-after 1 s; the breaker honours that instead of its 30 s trip time.
    // (Still open unless this machine took over a second since: the remaining time only falls.)
    if (primaryState.breaker === 'open') {
      assert.ok(primaryState.open_for_ms <= 1000, `open for ${primaryState.open_for_ms} ms`);
    }
  } finally {
    await setFault(primary, null);
  }
  // Past the 1 s the breaker was told to stay open (waiting longer changes nothing): the next
  // request is the probe. Had the breaker kept its 30 s trip time, it would go to the secondary.
  await sleep(1200);
  const { response } = await azure().chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'probe' }], max_tokens: 2 })
    .withResponse();
  assert.equal(response.headers.get('x-ms-region'), 'swedencentral', 'the probe went to the primary');
  const after = (await backends()).find((b) => b.name === 'primary');
  assert.equal(after.pools[0].breaker, 'closed');
});

test('every member throttled: 429 with the smallest retry-after', async () => {
  await setFault(primary, { deployment: 'gpt-4o', throttle: true });
  await setFault(secondary, { deployment: 'gpt-4o', throttle: true });
  try {
    const res = await fetchWithTimeout(`${gateway.url}/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }),
    });
    assert.ok(res.status === 429 || res.status === 503, `status ${res.status}`);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    await res.text();
  } finally {
    await setFault(primary, null);
    await setFault(secondary, null);
  }
  await sleep(1200);  // past the breakers' retry-after, so the next tests find them half-open
});

// The backends' stream_idle timeout (300 s) is far beyond this test's own bound: the stream can
// only end in time if the gateway passes the backend's drop on at once.
test('a stream dropped by the backend ends promptly for the client', { timeout: 60000 }, async () => {
  await setFault(secondary, { deployment: 'gpt-4o', drop_stream_rate: 1, drop_after_tokens: 3 });
  await setFault(primary, { deployment: 'gpt-4o', drop_stream_rate: 1, drop_after_tokens: 3 });
  try {
    const stream = await azure().chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'long' }], max_tokens: 200, stream: true,
    });
    let chunks = 0;
    try {
      for await (const chunk of stream) chunks++;
    } catch {
      // The SDK may report the truncated stream as an error; either way it must not hang.
    }
    assert.ok(chunks < 200, 'the stream was cut');
  } finally {
    await setFault(primary, null);
    await setFault(secondary, null);
  }
});

test('a client that disconnects frees the upstream request', async () => {
  const controller = new AbortController();
  const stream = await azure().chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'long story' }], max_tokens: 2000, stream: true },
    { signal: controller.signal },
  );
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      if (++chunks === 5) controller.abort();
    }
  } catch {
    // aborted
  }
  const inFlight = await pollUntil(async () => (await backends()).reduce((sum, b) => sum + b.in_flight, 0),
    (n) => n === 0);
  assert.equal(inFlight, 0, 'no upstream request left in flight');
});

test('health and readiness on the admin listener', async () => {
  assert.equal((await fetchWithTimeout(`${gateway.admin}/healthz`)).status, 200);
  assert.equal((await fetchWithTimeout(`${gateway.admin}/readyz`)).status, 200);
  const metrics = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
  assert.match(metrics, /sluice_backend_attempts_total\{backend="primary"\}/);
});
