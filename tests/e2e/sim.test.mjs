// End-to-end: the official openai npm client (AzureOpenAI and OpenAI classes) against the real
// `sluice sim` binary. Token counts are cross-checked with npm tiktoken, JWTs with jose.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import OpenAI, { AzureOpenAI } from 'openai';
import { encoding_for_model, get_encoding } from 'tiktoken';

import {
  HANG_BOUND_MS, chatPromptTokens, fetchWithTimeout, removeTempFiles, resetSimUsage, setSimFault, simUsage,
  startSluice, tempFile,
} from './helpers.mjs';

const TENANT = '9e2f5c1a-0000-4000-8000-00000000e2e0';
const CLIENT_ID = 'aaaaaaaa-1111-4111-8111-000000000e2e';
const CLIENT_SECRET = 'e2e-secret';
const API_KEY = 'e2e-key';
const GA = '2024-10-21';

const CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
seed: 7
deployments:
  gpt-4o:
    model: gpt-4o
    tokens_per_minute: 10000000
    time_to_first_token: 30ms
    tokens_per_second: 400
    natural_length: 24
    region: swedencentral
  gpt-35:
    model: gpt-35-turbo
    tokens_per_minute: 10000000
    time_to_first_token: 0ms
    tokens_per_second: 0
    natural_length: 17
  tiny:
    model: gpt-4o-mini
    tokens_per_minute: 1000
    time_to_first_token: 0ms
    tokens_per_second: 0
  ptu:
    model: gpt-4o
    provisioned: true
    provisioned_tokens_per_minute: 60000
    time_to_first_token: 0ms
    tokens_per_second: 0
  instruct:
    model: gpt-35-turbo-instruct
    tokens_per_minute: 10000000
    time_to_first_token: 0ms
    tokens_per_second: 0
    natural_length: 12
  embed:
    model: text-embedding-3-small
    tokens_per_minute: 10000000
    time_to_first_token: 0ms
auth:
  mode: both
  api_keys:
    - {name: e2e-team, key: ${API_KEY}}
  tenant_id: ${TENANT}
  clients:
    - client_id: ${CLIENT_ID}
      client_secret: ${CLIENT_SECRET}
      display_name: e2e-app
      roles: [Inference.User]
`;

let sim;
let o200k;
let cl100k;

function azure(deployment, extra = {}) {
  return new AzureOpenAI({ endpoint: sim.url, apiKey: API_KEY, apiVersion: GA, deployment, maxRetries: 0, ...extra });
}

const usage = () => simUsage(sim);

async function postJson(path, body, headers = {}) {
  return fetchWithTimeout(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': API_KEY, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function fetchToken(version) {
  const v2 = version === 2;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...(v2 ? { scope: 'https://cognitiveservices.azure.com/.default' } : { resource: 'https://cognitiveservices.azure.com' }),
  });
  const r = await fetchWithTimeout(`${sim.url}/${TENANT}/oauth2/${v2 ? 'v2.0/' : ''}token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return { status: r.status, body: await r.json() };
}

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', CONFIG)]);
  o200k = encoding_for_model('gpt-4o');
  cl100k = get_encoding('cl100k_base');
});

after(async () => {
  o200k?.free();
  cl100k?.free();
  if (sim) await sim.stop();
  removeTempFiles();
});

describe('chat completions (AzureOpenAI)', () => {
  const messages = [
    { role: 'system', content: 'You are a concise assistant for a logistics company.' },
    { role: 'user', name: 'dispatcher', content: 'Summarise the delivery schedule for Tuesday in two sentences.' },
  ];

  test('non-streaming body has Azure fields and exact token usage', async () => {
    const { data: c, response } = await azure('gpt-4o').chat.completions.create({ messages }).withResponse();
    assert.match(c.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
    assert.equal(c.object, 'chat.completion');
    assert.equal(c.model, 'gpt-4o-2024-08-06');
    assert.match(c.system_fingerprint, /^fp_/);
    assert.ok(Math.abs(c.created - Date.now() / 1000) < 60);
    assert.equal(c.choices.length, 1);
    const choice = c.choices[0];
    assert.equal(choice.index, 0);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.logprobs, null);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.refusal, null);
    assert.ok(choice.message.content.length > 20);
    for (const k of ['hate', 'self_harm', 'sexual', 'violence']) {
      assert.deepEqual(choice.content_filter_results[k], { filtered: false, severity: 'safe' });
      assert.deepEqual(c.prompt_filter_results[0].content_filter_results[k], { filtered: false, severity: 'safe' });
    }
    assert.equal(c.prompt_filter_results[0].prompt_index, 0);

    assert.equal(c.usage.prompt_tokens, chatPromptTokens(o200k, messages));
    assert.equal(c.usage.completion_tokens, o200k.encode(choice.message.content).length);
    assert.equal(c.usage.completion_tokens, 24); // natural_length
    assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
    assert.equal(c.usage.prompt_tokens_details.cached_tokens, 0);
    assert.equal(c.usage.completion_tokens_details.reasoning_tokens, 0);

    for (const h of ['apim-request-id', 'x-request-id', 'x-ratelimit-remaining-tokens', 'x-ratelimit-remaining-requests']) {
      assert.ok(response.headers.get(h), `missing ${h}`);
    }
    assert.equal(response.headers.get('x-ms-region'), 'swedencentral');
  });

  test('max_tokens stops at exactly that many tokens with finish_reason length', async () => {
    const c = await azure('gpt-4o').chat.completions.create({ messages, max_tokens: 7 });
    assert.equal(c.choices[0].finish_reason, 'length');
    assert.equal(c.usage.completion_tokens, 7);
    assert.equal(o200k.encode(c.choices[0].message.content).length, 7);
  });

  test('cl100k deployment counts with cl100k', async () => {
    const c = await azure('gpt-35').chat.completions.create({ messages, max_tokens: 200 });
    assert.equal(c.model, 'gpt-35-turbo');
    assert.equal(c.usage.prompt_tokens, chatPromptTokens(cl100k, messages));
    assert.equal(c.usage.completion_tokens, cl100k.encode(c.choices[0].message.content).length);
    assert.equal(c.usage.completion_tokens, 17);
  });

  test('same request, same text; different request, different text', async () => {
    const a = await azure('gpt-4o').chat.completions.create({ messages });
    const b = await azure('gpt-4o').chat.completions.create({ messages });
    const c = await azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'Something else' }] });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.notEqual(a.choices[0].message.content, c.choices[0].message.content);
  });

  test('x-ms-client-request-id is echoed', async () => {
    const r = await postJson(`/openai/deployments/gpt-4o/chat/completions?api-version=${GA}`,
      { messages, max_tokens: 1 }, { 'x-ms-client-request-id': 'abc-123' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ms-client-request-id'), 'abc-123');
    await r.text();
  });
});

describe('legacy completions', () => {
  test('text_completion bodies and stream with exact counts', async () => {
    const client = azure('instruct');
    const c = await client.completions.create({ model: 'instruct', prompt: 'Once upon a time', max_tokens: 5 });
    assert.equal(c.object, 'text_completion');
    assert.match(c.id, /^cmpl-/);
    assert.equal(c.choices[0].finish_reason, 'length');
    assert.equal(c.usage.prompt_tokens, cl100k.encode('Once upon a time').length);
    assert.equal(c.usage.completion_tokens, cl100k.encode(c.choices[0].text).length);
    assert.equal(c.usage.completion_tokens, 5);
    const stream = await client.completions.create({ model: 'instruct', prompt: 'Once upon a time', stream: true });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'stop');
    assert.equal(cl100k.encode(text).length, 12);
    await assert.rejects(azure('gpt-4o').completions.create({ model: 'gpt-4o', prompt: 'x' }),
      (e) => e.status === 400 && e.code === 'OperationNotSupported');
  });
});

describe('streaming', () => {
  const messages = [{ role: 'user', content: 'Stream me a short story about a lighthouse.' }];

  async function collect(stream) {
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  }

  test('without include_usage: filter chunk, role chunk, one token per content chunk, finish, no usage', async () => {
    const chunks = await collect(await azure('gpt-4o').chat.completions.create({ messages, stream: true }));
    assert.deepEqual(chunks[0].choices, []);
    assert.equal(chunks[0].prompt_filter_results[0].prompt_index, 0);
    assert.equal(chunks[1].choices[0].delta.role, 'assistant');
    assert.equal(chunks[1].choices[0].delta.content, '');
    const content = chunks.slice(2, -1);
    const last = chunks[chunks.length - 1];
    assert.equal(last.choices[0].finish_reason, 'stop');
    assert.deepEqual(last.choices[0].delta, {});
    assert.equal(content.length, 24);
    for (const c of content) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'gpt-4o-2024-08-06');
      assert.equal(c.choices[0].finish_reason, null);
      assert.equal(o200k.encode(c.choices[0].delta.content).length, 1);
    }
    assert.ok(chunks.every((c) => !c.usage));
    const text = content.map((c) => c.choices[0].delta.content).join('');
    const whole = await azure('gpt-4o').chat.completions.create({ messages });
    assert.equal(text, whole.choices[0].message.content);
  });

  test('with include_usage: a final usage-only chunk with exact counts', async () => {
    const chunks = await collect(await azure('gpt-4o').chat.completions.create({
      messages, stream: true, max_tokens: 9, stream_options: { include_usage: true },
    }));
    const usageChunk = chunks[chunks.length - 1];
    assert.deepEqual(usageChunk.choices, []);
    assert.equal(usageChunk.usage.prompt_tokens, chatPromptTokens(o200k, messages));
    assert.equal(usageChunk.usage.completion_tokens, 9);
    const finish = chunks[chunks.length - 2];
    assert.equal(finish.choices[0].finish_reason, 'length');
    const text = chunks.slice(2, -2).map((c) => c.choices[0].delta.content).join('');
    assert.equal(o200k.encode(text).length, 9);
  });

  test('raw SSE ends with [DONE]; tokens are paced, not sent at once', async () => {
    const t0 = performance.now();
    const r = await postJson(`/openai/deployments/gpt-4o/chat/completions?api-version=${GA}`, { messages, stream: true });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const body = await r.text();
    const elapsed = performance.now() - t0;
    assert.ok(body.endsWith('data: [DONE]\n\n'));
    // 30 ms to first token + 23 gaps of 2.5 ms at 400 tokens/s, minus jitter.
    assert.ok(elapsed >= 60, `stream took ${elapsed} ms`);
  });

  test('stream_options is refused on api-versions older than 2024-09-01-preview', async () => {
    const old = azure('gpt-4o', { apiVersion: '2024-02-01' });
    await assert.rejects(
      old.chat.completions.create({ messages, stream: true, stream_options: { include_usage: true } }),
      (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.error.message, 'Unrecognized request argument supplied: stream_options');
        assert.equal(e.error.type, 'invalid_request_error');
        return true;
      });
    const ok = await old.chat.completions.create({ messages, stream: true });
    let n = 0;
    for await (const _ of ok) n++;
    assert.ok(n > 3);
  });
});

describe('embeddings', () => {
  const cosine = (a, b) => {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    return dot / Math.sqrt(na * nb);
  };

  test('vectors are deterministic, similar texts are close, usage is exact', async () => {
    const input = ['The quick brown fox jumps over the lazy dog',
      'the quick brown foxes jumped over a lazy dog',
      'Quarterly revenue grew in the European market segment'];
    const r = await azure('embed').embeddings.create({ input, model: 'embed' });
    assert.equal(r.object, 'list');
    assert.equal(r.model, 'text-embedding-3-small');
    assert.equal(r.data.length, 3);
    assert.equal(r.data[0].embedding.length, 1536);
    assert.equal(r.usage.prompt_tokens, input.reduce((n, s) => n + cl100k.encode(s).length, 0));
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
    const [a, b, c] = r.data.map((d) => d.embedding);
    assert.ok(cosine(a, b) > 0.6, `similar: ${cosine(a, b)}`);
    assert.ok(cosine(a, c) < 0.25, `unrelated: ${cosine(a, c)}`);
    const again = await azure('embed').embeddings.create({ input: input[0], model: 'embed', encoding_format: 'float' });
    assert.deepEqual(again.data[0].embedding.map((x) => Math.fround(x)), a.map((x) => Math.fround(x)));
  });

  test('dimensions is honoured', async () => {
    const r = await azure('embed').embeddings.create({ input: 'hello world', dimensions: 256, model: 'embed' });
    assert.equal(r.data[0].embedding.length, 256);
  });

  test('chat on an embedding deployment is OperationNotSupported', async () => {
    await assert.rejects(azure('embed').chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 400 && e.code === 'OperationNotSupported');
  });
});

describe('rate limits', () => {
  test('429 with retry-after when the deployment TPM is exhausted', async () => {
    await fetchWithTimeout(`${sim.url}/sim/limits/reset`, { method: 'POST' });
    const client = azure('tiny');
    const messages = [{ role: 'user', content: 'hi' }];
    const { response } = await client.chat.completions.create({ messages, max_tokens: 600 }).withResponse();
    const remaining = Number(response.headers.get('x-ratelimit-remaining-tokens'));
    assert.equal(remaining, 1000 - 600 - chatPromptTokens(o200k, messages));
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '0');
    await assert.rejects(client.chat.completions.create({ messages, max_tokens: 600 }), (e) => {
      assert.equal(e.status, 429);
      assert.equal(e.code, '429');
      assert.match(e.message, /Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded (token|call) rate limit/);
      const retryAfter = Number(e.headers.get('retry-after'));
      const retryAfterMs = Number(e.headers.get('retry-after-ms'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
      assert.ok(retryAfterMs > 0 && retryAfterMs <= 60000);
      assert.equal(retryAfter, Math.ceil(retryAfterMs / 1000));
      assert.match(e.message, new RegExp(`Please retry after ${retryAfter} second`));
      return true;
    });
    const u = await usage();
    assert.ok(u.deployments.tiny.throttled >= 1);
  });

  test('provisioned deployments report utilization and throttle at 100%', async () => {
    await fetchWithTimeout(`${sim.url}/sim/limits/reset`, { method: 'POST' });
    const client = azure('ptu');
    // Admitted below 100% (the bucket was empty); its estimate takes utilization past 100%.
    const { response } = await client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], max_tokens: 90000 }).withResponse();
    const utilization = response.headers.get('azure-openai-deployment-utilization');
    assert.match(utilization, /^\d+\.\d%$/);
    assert.ok(parseFloat(utilization) > 100, utilization);
    await assert.rejects(client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], max_tokens: 10 }),
      (e) => e.status === 429 && Number(e.headers.get('retry-after-ms')) > 0);
  });
});

describe('errors', () => {
  test('401 for a wrong key, in Azure shape', async () => {
    const bad = new AzureOpenAI({ endpoint: sim.url, apiKey: 'wrong', apiVersion: GA, deployment: 'gpt-4o', maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }), (e) => {
      assert.equal(e.status, 401);
      assert.equal(e.code, '401');
      assert.match(e.message, /Access denied due to invalid subscription key or wrong API endpoint/);
      return true;
    });
  });

  test('401 for a bad bearer token', async () => {
    const bad = new AzureOpenAI({ endpoint: sim.url, azureADTokenProvider: async () => 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', apiVersion: GA, deployment: 'gpt-4o', maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 401 && /Access token is missing, invalid, audience is incorrect/.test(e.message));
  });

  test('404 DeploymentNotFound and 404 without api-version', async () => {
    await assert.rejects(azure('nope').chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }), (e) => {
      assert.equal(e.status, 404);
      assert.equal(e.code, 'DeploymentNotFound');
      assert.match(e.message, /The API deployment for this resource does not exist/);
      return true;
    });
    const r = await postJson('/openai/deployments/gpt-4o/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 404);
    assert.deepEqual(await r.json(), { error: { code: '404', message: 'Resource not found' } });
    const v = await postJson('/openai/deployments/gpt-4o/chat/completions?api-version=1999-01-01', { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(v.status, 400);
    assert.deepEqual(await v.json(), { error: { code: 'BadRequest', message: 'API version not supported' } });
  });

  test('the same target twice, and targets one character apart, each get their own answer', async () => {
    // The simulator keeps the last target's route per thread: a repeat and a change must both
    // answer as the target says.
    const chat = '/openai/deployments/gpt-4o/chat/completions';
    const cases = [
      [`${chat}?api-version=2024-10-21`, 'POST', 200],
      [`${chat}?api-version=2024-10-21`, 'POST', 200],
      [`${chat}?api-version=2024-10-21`, 'GET', 404],
      [`${chat}?api-version=1999-10-21`, 'POST', 400],
      [`${chat}?api-version=1999-10-21`, 'POST', 400],
      [`${chat}?api-versioN=2024-10-21`, 'POST', 404],
      [`${chat.replace('completions', 'completionz')}?api-version=2024-10-21`, 'POST', 404],
      ['/openai/deployments/gpt-4p/chat/completions?api-version=2024-10-21', 'POST', 404],
      [`${chat}?api-version=2024-10-21`, 'POST', 200],
    ];
    for (const [path, method, status] of cases) {
      const r = await fetchWithTimeout(`${sim.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'api-key': API_KEY },
        body: method === 'POST' ? JSON.stringify({ messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }) : undefined,
      });
      await r.text();
      assert.equal(r.status, status, `${method} ${path}`);
    }
  });

  test('400 validation errors say what is wrong', async () => {
    await assert.rejects(azure('gpt-4o').chat.completions.create({ messages: [] }),
      (e) => e.status === 400 && e.error.message === "[] is too short - 'messages'" && e.error.type === 'invalid_request_error');
  });
});

describe('Entra ID tokens', () => {
  for (const version of [1, 2]) {
    test(`v${version} token from the sim's endpoint works with azureADTokenProvider`, async () => {
      const { status, body } = await fetchToken(version);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.token_type, 'Bearer');
      if (version === 1) {
        assert.equal(typeof body.expires_in, 'string');
        assert.equal(body.resource, 'https://cognitiveservices.azure.com');
        assert.ok(Number(body.expires_on) > Date.now() / 1000);
      } else {
        assert.equal(typeof body.expires_in, 'number');
        assert.equal(typeof body.ext_expires_in, 'number');
      }
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.ver, version === 1 ? '1.0' : '2.0');
      assert.equal(version === 1 ? claims.appid : claims.azp, CLIENT_ID);
      assert.equal(claims.tid, TENANT);
      assert.deepEqual(claims.roles, ['Inference.User']);

      // A relying party validates it with the published JWKS.
      const config = await (await fetchWithTimeout(`${sim.url}/${TENANT}${version === 2 ? '/v2.0' : ''}/.well-known/openid-configuration`)).json();
      const jwks = createRemoteJWKSet(new URL(config.jwks_uri));
      const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
        issuer: config.issuer, audience: 'https://cognitiveservices.azure.com', algorithms: ['RS256'],
      });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.ok(protectedHeader.kid);
      assert.equal(payload.tid, TENANT);

      await resetSimUsage(sim);
      const client = new AzureOpenAI({ endpoint: sim.url, azureADTokenProvider: async () => body.access_token, apiVersion: GA, deployment: 'gpt-4o', maxRetries: 0 });
      const c = await client.chat.completions.create({ messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 });
      assert.equal(c.usage.completion_tokens, 3);
      const u = await usage();
      assert.equal(u.clients[CLIENT_ID].requests, 1);
      assert.equal(u.clients[CLIENT_ID].completion_tokens, 3);
    });
  }

  test('wrong secret and unknown client get Entra error bodies', async () => {
    const form = (id, secret) => new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret, scope: 'https://cognitiveservices.azure.com/.default' }).toString();
    const post = (body) => fetchWithTimeout(`${sim.url}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const bad = await post(form(CLIENT_ID, 'nope'));
    assert.equal(bad.status, 401);
    const b = await bad.json();
    assert.equal(b.error, 'invalid_client');
    assert.deepEqual(b.error_codes, [7000215]);
    assert.match(b.error_description, /^AADSTS7000215: /);
    for (const k of ['timestamp', 'trace_id', 'correlation_id']) assert.ok(b[k]);
    const unknown = await (await post(form('bbbbbbbb-0000-4000-8000-000000000000', 'x'))).json();
    assert.deepEqual(unknown.error_codes, [700016]);
  });
});

describe('OpenAI class on the v1 routes', () => {
  for (const base of ['/openai/v1', '/v1']) {
    test(`chat through ${base} with the deployment as model`, async () => {
      const client = new OpenAI({ baseURL: `${sim.url}${base}`, apiKey: API_KEY, maxRetries: 0 });
      const c = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 4 });
      assert.equal(c.model, 'gpt-4o-2024-08-06');
      assert.equal(c.usage.completion_tokens, 4);
      const e = await client.embeddings.create({ model: 'embed', input: 'abc' });
      assert.equal(e.data[0].embedding.length, 1536);
      await assert.rejects(client.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'x' }] }),
        (err) => err.status === 404 && err.code === 'DeploymentNotFound');
    });
  }
});

describe('accounting and faults', () => {
  test('/sim/usage counts exactly what was served, per deployment and client', async () => {
    await resetSimUsage(sim);
    const a = await azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'one' }], max_tokens: 5 });
    const b = await azure('gpt-35').chat.completions.create({ messages: [{ role: 'user', content: 'two' }] });
    const u = await usage();
    assert.equal(u.total.requests, 2);
    assert.equal(u.deployments['gpt-4o'].prompt_tokens, a.usage.prompt_tokens);
    assert.equal(u.deployments['gpt-4o'].completion_tokens, a.usage.completion_tokens);
    assert.equal(u.deployments['gpt-35'].completion_tokens, b.usage.completion_tokens);
    assert.equal(u.clients['e2e-team'].total_tokens, a.usage.total_tokens + b.usage.total_tokens);
  });

  test('a stream dropped mid-way is cut on the wire and counts only what was sent', async () => {
    await resetSimUsage(sim);
    await setSimFault(sim, { deployment: 'gpt-4o', drop_stream_rate: 1, drop_after_tokens: 3 });
    try {
      const stream = await azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'drop me' }], stream: true });
      const seen = [];
      await assert.rejects((async () => { for await (const c of stream) seen.push(c); })());
      assert.equal(seen.filter((c) => c.choices[0]?.delta?.content).length, 3);
      const u = await usage();
      assert.equal(u.deployments['gpt-4o'].completion_tokens, 3);
      assert.equal(u.deployments['gpt-4o'].streams_cut, 1);
    } finally {
      await setSimFault(sim, null);
    }
  });

  test('error-rate fault answers with the chosen status; cleared at runtime', async () => {
    await setSimFault(sim, { error_rate: 1, status_codes: [503] });
    try {
      await assert.rejects(azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }), (e) => e.status === 503);
      await setSimFault(sim, { deployment: 'gpt-35', error_rate: 1, status_codes: [500] });
      await assert.rejects(azure('gpt-35').chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }),
        (e) => e.status === 500 && e.error.type === 'server_error');
    } finally {
      await setSimFault(sim, null);
    }
    const ok = await azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'x' }], max_tokens: 1 });
    assert.equal(ok.usage.completion_tokens, 1);
  });

  test('latency spikes delay the answer; cleared at runtime', { timeout: HANG_BOUND_MS }, async () => {
    await setSimFault(sim, { deployment: 'gpt-35', latency_spike_ms: 1500, spike_rate: 1 });
    try {
      const t0 = performance.now();
      await azure('gpt-35').chat.completions.create({ messages: [{ role: 'user', content: 'x' }], max_tokens: 1 });
      assert.ok(performance.now() - t0 >= 1490, `took ${performance.now() - t0} ms`);  // never less
    } finally {
      await setSimFault(sim, null);
    }
    // A spike longer than this test may last (the most the simulator allows), then cleared: the
    // answer can only come in time if clearing removed it (no clock needed to tell).
    await setSimFault(sim, { deployment: 'gpt-35', latency_spike_ms: 600000, spike_rate: 1 });
    await setSimFault(sim, null);
    const c = await azure('gpt-35').chat.completions.create({ messages: [{ role: 'user', content: 'x' }], max_tokens: 1 });
    assert.equal(c.usage.completion_tokens, 1);
  });

  test('throttle fault forces 429s', async () => {
    await setSimFault(sim, { deployment: 'gpt-4o', throttle: true });
    try {
      await assert.rejects(azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'x' }] }),
        (e) => e.status === 429 && e.headers.get('retry-after') === '1');
    } finally {
      await setSimFault(sim, null);
    }
  });
});

describe('bad input never takes the process down', () => {
  const chatPath = `/openai/deployments/gpt-4o/chat/completions?api-version=${GA}`;

  test('truncated JSON names the byte offset', async () => {
    const r = await postJson(chatPath, '{"messages":[{"role":"user","content":"hi"}');
    assert.equal(r.status, 400);
    const b = await r.json();
    assert.match(b.error.message, /could not parse the JSON body.*byte \d+/);
  });

  test('binary garbage gets a 400', async () => {
    const r = await fetchWithTimeout(`${sim.url}${chatPath}`, {
      method: 'POST', headers: { 'api-key': API_KEY, 'content-type': 'application/json' },
      body: new Uint8Array([0, 255, 254, 1, 2, 3, 0x7b, 0x22, 0x80]),
    });
    assert.equal(r.status, 400);
    await r.json();
  });

  test('a huge body is refused and a slow client does not block others', async () => {
    const status = await new Promise((resolve, reject) => {
      const port = Number(new URL(sim.url).port);
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`POST ${chatPath} HTTP/1.1\r\nhost: x\r\napi-key: ${API_KEY}\r\ncontent-type: application/json\r\ncontent-length: 200000000\r\n\r\n`);
        s.write(Buffer.alloc(64 * 1024, 0x20));
      });
      let data = '';
      s.setTimeout(HANG_BOUND_MS, () => { s.destroy(); reject(new Error('no answer to a huge body')); });
      s.on('data', (d) => { data += d; const m = data.match(/^HTTP\/1\.1 (\d+)/); if (m) { s.destroy(); resolve(Number(m[1])); } });
      s.on('error', () => {});
      s.on('close', () => { const m = data.match(/^HTTP\/1\.1 (\d+)/); if (m) resolve(Number(m[1])); else reject(new Error('closed without a status')); });
    });
    assert.equal(status, 413);

    // A client that sends half a request and stalls.
    const port = Number(new URL(sim.url).port);
    const slow = net.connect(port, '127.0.0.1', () => slow.write('POST /openai/deployments/gpt-4o/chat/completions HTTP/1.1\r\nhost: x\r\n'));
    slow.on('error', () => {});
    try {
      const c = await azure('gpt-4o').chat.completions.create({ messages: [{ role: 'user', content: 'still alive?' }], max_tokens: 2 });
      assert.equal(c.usage.completion_tokens, 2);
    } finally {
      slow.destroy();
    }
    const health = await fetchWithTimeout(`${sim.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(sim.process.exitCode, null);
  });
});
