// Token limits end to end on one gateway (store: local): `sluice gateway` in front of `sluice sim`,
// driven with fetch and the official openai npm client. Prompt tokens are cross-checked with npm
// tiktoken, served tokens with the simulator's own count (/sim/usage).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { AzureOpenAI } from 'openai';
import { encoding_for_model } from 'tiktoken';

import {
  chatPromptTokens, pollUntil, postChat, resetSimUsage, setSimFault, simUsage as usageOf, startSluice, tempFile,
} from './helpers.mjs';

const API_VERSION = '2024-10-21';
let sim;
let gateway;
let o200k;

// Every deployment answers at once. `long` writes up to max_tokens (natural length 2000); `short`
// stops after 24 tokens whatever max_tokens says, so its real usage is far below the estimate.
const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 3
deployments:
  long: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
  short: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 400, natural_length: 24}
  flaky: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
  quota: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
  multi: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
  slow: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 40, natural_length: 2000}
  metered: {model: gpt-4o, tokens_per_minute: 900000, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(simUrl) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
backends:
  - {name: sim, url: "${simUrl}", auth: {type: api-key, key: upstream-key}}
pools:
  - name: sim
    members: [{backend: sim}]
    breaker: {failures: 1000}
    retry: {max_attempts: 1}
routes:
  - {name: main, match: {deployments: [long, short, flaky, slow, metered]}, pool: sim}
  - name: quota
    match: {deployments: [quota]}
    pool: sim
    policies:
      token_limit:
        limits:
          - {name: team-hourly-quota, counter_key: 'header:x-team', token_quota: 600, token_quota_period: hourly}
  - name: multi
    match: {deployments: [multi]}
    pool: sim
    policies:
      token_limit:
        limits:
          - {name: per-team, counter_key: 'header:x-team', tokens_per_minute: 2000}
          - {name: per-deployment, counter_key: deployment, tokens_per_minute: 1500}
policies:
  token_limit:
    limits:
      - {name: per-team, counter_key: 'header:x-team', tokens_per_minute: 2000, default_completion_tokens: 100}
`;
}

const promptTokens = (messages) => chatPromptTokens(o200k, messages);

function chat(deployment, team, body) {
  return postChat(gateway.url, deployment, body, { 'x-team': team });
}

// The team's remaining tokens per minute, read from a request too large for any minute: it is
// refused before the backend and charges nothing, so it can be repeated while waiting for the
// gateway to settle or release a reservation (which it does just after the response ends).
async function remainingTokens(deployment, team) {
  const res = await chat(deployment, team, { messages: [{ role: 'user', content: 'probe' }], max_tokens: 100000 });
  await res.text();
  assert.equal(res.status, 429);
  return Number(res.headers.get('x-ratelimit-remaining-tokens'));
}

function azure(deployment, team) {
  return new AzureOpenAI({
    endpoint: gateway.url, apiKey: 'unused', apiVersion: API_VERSION, deployment, maxRetries: 0,
    defaultHeaders: { 'x-team': team },
  });
}

const simUsage = () => usageOf(sim);

before(async () => {
  o200k = encoding_for_model('gpt-4o');
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  gateway = await startSluice(['gateway', '--config', tempFile('gateway.yaml', gatewayConfig(sim.url))]);
});

after(async () => {
  await gateway?.stop();
  await sim?.stop();
});

test('headers show the reservation: tokenizer prompt estimate plus max_tokens', async () => {
  const messages = [{ role: 'user', content: 'Say hello to the token limit.' }];
  const res = await chat('long', 'headers', { messages, max_tokens: 10 });
  assert.equal(res.status, 200);
  const body = await res.json();
  const reserved = promptTokens(messages) + 10;
  assert.equal(body.usage.prompt_tokens, promptTokens(messages), 'the estimate is the exact count');
  assert.equal(res.headers.get('x-ratelimit-consumed-tokens'), String(reserved));
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens'), String(2000 - reserved));
  assert.equal(res.headers.get('x-ratelimit-remaining-quota'), null, 'no quota on this route');
});

test("the gateway's limit headers replace the backend's own, once each", async () => {
  // The simulator meters this deployment and sends its own x-ratelimit-remaining-tokens (as Azure
  // does); the client must see the gateway's figure alone, not both.
  const messages = [{ role: 'user', content: 'Which limit do you see?' }];
  const direct = await fetch(`${sim.url}/openai/deployments/metered/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': 'upstream-key' },
    body: JSON.stringify({ messages, max_tokens: 10 }),
  });
  await direct.text();
  assert.match(direct.headers.get('x-ratelimit-remaining-tokens') ?? '', /^\d+$/, 'the backend sends its own');
  for (const [deployment, team] of [['metered', 'replaced'], ['long', 'added']]) {
    const res = await chat(deployment, team, { messages, max_tokens: 10 });
    assert.equal(res.status, 200);
    await res.text();
    const reserved = promptTokens(messages) + 10;
    assert.equal(res.headers.get('x-ratelimit-remaining-tokens'), String(2000 - reserved), deployment);
    assert.equal(res.headers.get('x-ratelimit-consumed-tokens'), String(reserved), deployment);
    assert.ok(res.headers.get('x-sluice-request-id'), deployment);
  }
});

test('N concurrent clients: exactly as many as fit are admitted, the rest get 429 + Retry-After', async () => {
  await resetSimUsage(sim);
  const messages = [{ role: 'user', content: 'concurrent' }];
  const reserved = promptTokens(messages) + 150;
  const responses = await Promise.all(
    Array.from({ length: 40 }, () => chat('long', 'burst', { messages, max_tokens: 150 })));
  const bodies = await Promise.all(responses.map((r) => r.json()));
  const ok = responses.filter((r) => r.status === 200);
  const refused = responses.filter((r) => r.status === 429);
  assert.equal(ok.length + refused.length, 40);
  // Real usage equals the estimate here (the sim writes max_tokens), so the limit is exact.
  assert.equal(ok.length, Math.floor(2000 / reserved));
  let used = 0;
  bodies.forEach((b, i) => { if (responses[i].status === 200) used += b.usage.total_tokens; });
  assert.ok(used <= 2000, `${used} tokens admitted`);
  const served = (await simUsage()).deployments.long.total_tokens;
  assert.equal(served, used, 'the backend served exactly what the gateway admitted');
  for (const [i, r] of responses.entries()) {
    if (r.status !== 429) continue;
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 61, `retry-after ${retry}`);
    assert.equal(bodies[i].error.code, 'rate_limit_exceeded');
    assert.match(bodies[i].error.message, /limit 'per-team'/);
  }
});

test('a stream shows its reservation in headers and is reconciled to its real usage', async () => {
  const messages = [{ role: 'user', content: 'Stream a short answer.' }];
  const client = azure('short', 'stream');
  const { data: stream, response } = await client.chat.completions
    .create({ messages, max_tokens: 500, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  const reserved = promptTokens(messages) + 500;
  assert.equal(response.headers.get('x-ratelimit-consumed-tokens'), String(reserved));
  assert.equal(response.headers.get('x-ratelimit-remaining-tokens'), String(2000 - reserved));
  let usage = null;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.ok(usage, 'usage chunk');
  assert.equal(usage.completion_tokens, 24, 'the sim stopped at its natural length');
  // 500 - 24 tokens of the stream's reservation come back once the log phase has run.
  const settled = 2000 - usage.total_tokens;
  assert.equal(await pollUntil(() => remainingTokens('short', 'stream'), (n) => n === settled), settled);
  const next = [{ role: 'user', content: 'next' }];
  const res = await chat('short', 'stream', { messages: next, max_tokens: 10 });
  assert.equal(res.status, 200);
  await res.json();
  // 500 - 24 tokens of the stream's reservation came back.
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens'),
    String(2000 - usage.total_tokens - (promptTokens(next) + 10)));
});

test('a client that leaves mid-stream is charged what it was sent, not its reservation', { timeout: 120000 }, async () => {
  await resetSimUsage(sim);
  const messages = [{ role: 'user', content: 'Leave early.' }];
  const reserved = promptTokens(messages) + 1900;
  const controller = new AbortController();
  const res = await fetch(`${gateway.url}/openai/deployments/slow/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-team': 'leaver' },
    body: JSON.stringify({ messages, max_tokens: 1900, stream: true }),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ratelimit-remaining-tokens'), String(2000 - reserved));
  // Leave once some content has arrived (40 tokens/s; the whole answer would take 50 s).
  const reader = res.body.getReader();
  let received = '';
  while (!/"content":"[^"]/.test(received)) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream ended before any content');
    received += Buffer.from(value).toString();
  }
  controller.abort();
  // The reservation is settled when the gateway notices the client left.
  const remaining = await pollUntil(() => remainingTokens('slow', 'leaver'), (n) => n !== 2000 - reserved);
  assert.notEqual(remaining, 2000 - reserved, 'the unused reservation was released');
  const charged = 2000 - remaining;
  // The prompt and the tokens relayed before the client left, estimated by the tokenizer: some,
  // and no more than the simulator wrote before the gateway hung up on it.
  const slow = (await pollUntil(simUsage, (u) => (u.deployments.slow?.requests ?? 0) >= 1)).deployments.slow;
  assert.ok(charged > promptTokens(messages), `charged ${charged}`);
  assert.ok(charged - promptTokens(messages) <= slow.completion_tokens,
    `charged ${charged - promptTokens(messages)} completion tokens, the simulator sent ${slow.completion_tokens}`);
  const next = [{ role: 'user', content: 'x' }];
  const after = await chat('slow', 'leaver', { messages: next, max_tokens: 1 });
  assert.equal(after.status, 200);
  await after.json();
  assert.equal(after.headers.get('x-ratelimit-remaining-tokens'), String(remaining - promptTokens(next) - 1));
});

test('failed requests release their reservation', async () => {
  await setSimFault(sim, { deployment: 'flaky', error_rate: 1, status_codes: [500] });
  const messages = [{ role: 'user', content: 'fail' }];
  try {
    // Three reservations of ~910 would not fit 2000 together unless each is released.
    for (let i = 0; i < 3; i++) {
      const res = await chat('flaky', 'failing', { messages, max_tokens: 900 });
      assert.equal(res.status, 500, `attempt ${i}`);
      await res.text();
      // Released just after the response, in the log phase.
      assert.equal(await pollUntil(() => remainingTokens('flaky', 'failing'), (n) => n === 2000), 2000, `attempt ${i}`);
    }
  } finally {
    await setSimFault(sim, null);
  }
  const ok = await chat('flaky', 'failing', { messages, max_tokens: 900 });
  assert.equal(ok.status, 200);
  await ok.json();
  assert.equal(ok.headers.get('x-ratelimit-remaining-tokens'), String(2000 - promptTokens(messages) - 900));
});

test('a used-up quota answers 403 saying when it resets', async () => {
  const messages = [{ role: 'user', content: 'quota' }];
  const reserved = promptTokens(messages) + 200;
  for (let i = 0; i < 2; i++) {
    const res = await chat('quota', 'q', { messages, max_tokens: 200 });
    assert.equal(res.status, 200);
    await res.json();
    assert.equal(res.headers.get('x-ratelimit-remaining-quota'), String(600 - (i + 1) * reserved));
  }
  const refused = await chat('quota', 'q', { messages, max_tokens: 200 });
  assert.equal(refused.status, 403);
  const body = await refused.json();
  const nextHour = new Date(Math.ceil((Date.now() + 1) / 3600000) * 3600000).toISOString().replace('.000Z', 'Z');
  assert.match(body.error.message, /^Token quota of 600 for period hourly exceeded \(limit 'team-hourly-quota'/);
  assert.ok(body.error.message.endsWith(`resets at ${nextHour}.`), body.error.message);
  assert.equal(refused.headers.get('x-ratelimit-remaining-quota'), String(600 - 2 * reserved));
  // Another team has its own quota.
  const other = await chat('quota', 'q2', { messages, max_tokens: 200 });
  assert.equal(other.status, 200);
  await other.json();
});

test('several limits on one request: the refusal names the one that refused', async () => {
  const messages = [{ role: 'user', content: 'multi' }];
  const a = await chat('multi', 'team-a', { messages, max_tokens: 1000 });
  assert.equal(a.status, 200);
  await a.json();
  const b = await chat('multi', 'team-b', { messages, max_tokens: 600 });
  assert.equal(b.status, 429);
  assert.match((await b.json()).error.message, /limit 'per-deployment'/);
  const fits = await chat('multi', 'team-b', { messages, max_tokens: 400 });
  assert.equal(fits.status, 200);
  await fits.json();
  // The tightest window is the deployment's: 1500 - (1000 + 400 + 2 prompts).
  assert.equal(fits.headers.get('x-ratelimit-remaining-tokens'), String(1500 - 1400 - 2 * promptTokens(messages)));
});
