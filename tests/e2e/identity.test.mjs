// End-to-end: `sluice gateway` with the identity and access policies in front of `sluice sim`.
// Tokens come from the simulator's Entra endpoints (v1 and v2) and from jose, an independent JOSE
// implementation, which also mints every bad kind: expired, not yet valid, wrong audience and
// issuer, unknown kid, tampered, alg none, HS256 keyed with the public key. A small JWKS server in
// this process lets the test rotate keys under the gateway.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { AzureOpenAI, OpenAI } from 'openai';

import {
  HANG_BOUND_MS, fetchWithTimeout, freePort, pollUntil, sleep, sluiceBin, startSluice, tempFile,
} from './helpers.mjs';

const TENANT = '7d1e2f3a-0000-4000-8000-0000000000d6';
const CHAT_APP = 'aaaaaaaa-1111-4111-8111-0000000000c1';
const BATCH_APP = 'aaaaaaaa-1111-4111-8111-0000000000b2';
const BACKEND_KEY = 'gateway-to-sim-key-0001';
const TEAM_KEY = 'team-a-key-6f0e2c1b9d';
const JOSE_ISSUER = 'https://issuer.e2e.example/';
const JOSE_AUDIENCE = 'api://sluice-e2e';
const AZURE_AUDIENCE = 'https://cognitiveservices.azure.com';
const GA = '2024-10-21';

let sim;
let gateway;
let jwksServer;
let jwksFetches = 0;
const jwksKeys = [];  // public JWKs the test server publishes; the test rotates them
const keys = {};      // name → { privateKey, publicKey, kid, alg }

async function makeKey(name, alg) {
  const pair = await generateKeyPair(alg, { extractable: true });
  keys[name] = { ...pair, kid: name, alg };
  return keys[name];
}

async function publish(name) {
  const key = keys[name];
  jwksKeys.push({ ...(await exportJWK(key.publicKey)), kid: key.kid, use: 'sig', alg: key.alg });
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// A jose token for the jose route: valid unless `claims` / `header` / `times` say otherwise.
async function joseToken(keyName, { claims = {}, header = {}, iat, exp, nbf } = {}) {
  const key = keys[keyName];
  const now = nowSeconds();
  return new SignJWT({ azp: 'jose-app', ver: '2.0', tid: TENANT, roles: ['Inference.User'], ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .setIssuer(claims.iss ?? JOSE_ISSUER)
    .setAudience(claims.aud ?? JOSE_AUDIENCE)
    .setIssuedAt(iat ?? now - 60)
    .setNotBefore(nbf ?? now - 60)
    .setExpirationTime(exp ?? now + 3600)
    .sign(key.privateKey);
}

function b64url(text) {
  return Buffer.from(text).toString('base64url');
}

async function simToken(clientId, secret, version) {
  const v2 = version === 2;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    ...(v2 ? { scope: `${AZURE_AUDIENCE}/.default` } : { resource: AZURE_AUDIENCE }),
  });
  const r = await fetchWithTimeout(`${sim.url}/${TENANT}/oauth2/${v2 ? 'v2.0/' : ''}token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).access_token;
}

async function chat(deployment, headers = {}) {
  const r = await fetchWithTimeout(
    `${gateway.url}/openai/deployments/${deployment}/chat/completions?api-version=${GA}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 3 }),
    },
  );
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, body, headers: r.headers };
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });

// The reasons the gateway logged for refusals so far ("request … refused: expired (…)").
function loggedReasons() {
  return [...gateway.output().stderr.matchAll(/ refused: (\w+) /g)].map((m) => m[1]);
}

// Sends a request and returns the response with the reason the gateway logged for refusing it.
async function chatRefused(deployment, headers) {
  const before = loggedReasons().length;
  const res = await chat(deployment, headers);
  res.reason = (await pollUntil(loggedReasons, (reasons) => reasons.length > before, { intervalMs: 10 }))[before];
  return res;
}

function assertInvalidToken(res, audience = AZURE_AUDIENCE) {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body.error.code, '401');
  assert.equal(
    res.body.error.message,
    `Unauthorized. Access token is missing, invalid, audience is incorrect (${audience}), or have expired.`,
  );
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
}

before(async () => {
  await makeKey('rsa-1', 'RS256');
  await makeKey('ec-1', 'ES256');
  await makeKey('rsa-2', 'RS256');  // published later: the rotation
  await makeKey('rogue', 'RS256');  // never published
  await publish('rsa-1');
  await publish('ec-1');

  jwksServer = http.createServer((req, res) => {
    jwksFetches += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: jwksKeys }));
  });
  await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${jwksServer.address().port}/keys`;

  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', `
listen: {address: 127.0.0.1, port: 0, threads: 1}
deployments:
  chat:
    model: gpt-4o
    tokens_per_minute: 100000000
    time_to_first_token: 0ms
    tokens_per_second: 0
    natural_length: 3
auth:
  mode: keys
  api_keys: [{name: gateway, key: ${BACKEND_KEY}}]
  tenant_id: ${TENANT}
  clients:
    - {client_id: ${CHAT_APP}, client_secret: chat-secret, display_name: chat-frontend, roles: [Inference.User]}
    - {client_id: ${BATCH_APP}, client_secret: batch-secret, display_name: batch-jobs, roles: [Inference.User, Batch.Submit]}
`)]);

  const port = await freePort();
  const teamKeyHash = createHash('sha256').update(TEAM_KEY).digest('hex');
  const config = `
listeners: [{address: 127.0.0.1, port: ${port}, threads: 2}]
backends:
  - name: sim
    url: ${sim.url}
    auth: {type: api-key, key: ${BACKEND_KEY}}
    deployments: {chat-sim: chat, chat-jose: chat, chat-nokeys: chat, chat-batch: chat}
pools:
  - name: main
    members: [{backend: sim}]
policies:
  identity:
    jwt:
      issuers: ["https://sts.windows.net/{tid}/", "https://login.microsoftonline.com/{tid}/v2.0"]
      tenants: [${TENANT}]
      audiences: [${AZURE_AUDIENCE}]
      jwks_url: ${sim.url}/${TENANT}/discovery/v2.0/keys
    api_keys:
      keys:
        - {id: team-a-key, sha256: ${teamKeyHash}, app_id: team-a, display_name: Team A}
    apps:
      ${CHAT_APP}: {display_name: chat-frontend}
routes:
  - name: jose
    match: {deployments: [chat-jose]}
    pool: main
    policies:
      identity:
        jwt:
          issuers: ["${JOSE_ISSUER}"]
          audiences: ["${JOSE_AUDIENCE}"]
          jwks_url: ${jwksUrl}
          algorithms: [RS256, ES256]
          jwks_refresh_min_interval: 300ms
  - name: nokeys
    match: {deployments: [chat-nokeys]}
    pool: main
    policies:
      access: {allow_api_keys: false}
  - name: batch
    match: {deployments: [chat-batch]}
    pool: main
    policies:
      access: {required_roles: [Batch.Submit]}
  - name: default
    match: {deployments: [chat-sim]}
    pool: main
`;
  gateway = await startSluice(['gateway', '--config', tempFile('gateway.yaml', config)], {
    readyPattern: /sluice gateway listening on (http:\/\/\S+)/,
  });
  assert.equal(gateway.url, `http://127.0.0.1:${port}`);
});

after(async () => {
  if (gateway) await gateway.stop();
  if (sim) await sim.stop();
  if (jwksServer) await new Promise((resolve) => jwksServer.close(resolve));
});

describe('tokens from the simulator\'s Entra endpoints', () => {
  for (const version of [1, 2]) {
    test(`a v${version} client-credentials token passes`, async () => {
      const token = await simToken(CHAT_APP, 'chat-secret', version);
      const res = await chat('chat-sim', bearer(token));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.object, 'chat.completion');
      // Again: served from the validation cache, same answer.
      assert.equal((await chat('chat-sim', bearer(token))).status, 200);
    });
  }

  test('a route that requires a role refuses an app without it (403)', async () => {
    const chatToken = await simToken(CHAT_APP, 'chat-secret', 2);
    const refused = await chatRefused('chat-batch', bearer(chatToken));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'PermissionDenied');
    assert.equal(refused.reason, 'missing_role');
    const batchToken = await simToken(BATCH_APP, 'batch-secret', 1);
    assert.equal((await chat('chat-batch', bearer(batchToken))).status, 200);
  });

  test('a simulator token is not accepted on the route trusting another issuer', async () => {
    const token = await simToken(CHAT_APP, 'chat-secret', 2);
    assertInvalidToken(await chat('chat-jose', bearer(token)), JOSE_AUDIENCE);
  });

  test('a tampered payload is refused', async () => {
    const token = await simToken(CHAT_APP, 'chat-secret', 1);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.roles = ['Inference.User', 'Batch.Submit'];
    const res = await chatRefused('chat-batch', bearer(`${h}.${b64url(JSON.stringify(claims))}.${s}`));
    assertInvalidToken(res);
    assert.equal(res.reason, 'bad_signature');
  });
});

describe('tokens minted with jose', () => {
  test('RS256 and ES256 tokens pass', async () => {
    for (const key of ['rsa-1', 'ec-1']) {
      const res = await chat('chat-jose', bearer(await joseToken(key)));
      assert.equal(res.status, 200, `${key}: ${JSON.stringify(res.body)}`);
    }
  });

  test('a v1-shaped token (appid, no azp) passes', async () => {
    const token = await joseToken('rsa-1', { claims: { azp: undefined, appid: 'jose-v1-app', ver: '1.0' } });
    assert.equal((await chat('chat-jose', bearer(token))).status, 200);
  });

  test('expired, not yet valid, wrong audience and wrong issuer are refused with 401', async () => {
    const now = nowSeconds();
    const cases = {
      expired: await joseToken('rsa-1', { iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
      not_yet_valid: await joseToken('rsa-1', { nbf: now + 3600, exp: now + 7200 }),
      wrong_audience: await joseToken('rsa-1', { claims: { aud: 'https://management.azure.com' } }),
      wrong_issuer: await joseToken('ec-1', { claims: { iss: 'https://issuer.evil.example/' } }),
      missing_app_id: await joseToken('rsa-1', { claims: { azp: undefined } }),
    };
    for (const [reason, token] of Object.entries(cases)) {
      const res = await chatRefused('chat-jose', bearer(token));
      assertInvalidToken(res, JOSE_AUDIENCE);
      assert.equal(res.reason, reason);
    }
  });

  test('alg none and HS256 keyed with the public key are refused', async () => {
    const payload = {
      iss: JOSE_ISSUER, aud: JOSE_AUDIENCE, azp: 'attacker', exp: nowSeconds() + 3600, roles: ['Admin'],
    };
    const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.`;
    let res = await chatRefused('chat-jose', bearer(none));
    assertInvalidToken(res, JOSE_AUDIENCE);
    assert.equal(res.reason, 'algorithm_not_allowed');

    const pem = await exportSPKI(keys['rsa-1'].publicKey);
    const hs = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' })
      .sign(new TextEncoder().encode(pem));
    res = await chatRefused('chat-jose', bearer(hs));
    assertInvalidToken(res, JOSE_AUDIENCE);
    assert.equal(res.reason, 'algorithm_not_allowed');
    // Same attack by hand with the JWK's modulus as the secret.
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'rsa-1' }))}.${b64url(JSON.stringify(payload))}`;
    const mac = createHmac('sha256', jwksKeys[0].n).update(input).digest('base64url');
    res = await chatRefused('chat-jose', bearer(`${input}.${mac}`));
    assertInvalidToken(res, JOSE_AUDIENCE);
    assert.equal(res.reason, 'algorithm_not_allowed');
  });

  test('a tampered jose token is refused', async () => {
    const token = await joseToken('ec-1');
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.azp = 'someone-else';
    const res = await chatRefused('chat-jose', bearer(`${h}.${b64url(JSON.stringify(claims))}.${s}`));
    assertInvalidToken(res, JOSE_AUDIENCE);
    assert.equal(res.reason, 'bad_signature');
  });

  test('an unknown kid is refused, and a rotated-in key is picked up from the JWKS', async () => {
    const unknown = await chatRefused('chat-jose', bearer(await joseToken('rogue')));
    assertInvalidToken(unknown, JOSE_AUDIENCE);
    assert.equal(unknown.reason, 'unknown_kid');
    await sleep(400);  // past jwks_refresh_min_interval since the refetch for `rogue` (longer is fine)
    const fetchesBefore = jwksFetches;
    await publish('rsa-2');
    const res = await chat('chat-jose', bearer(await joseToken('rsa-2')));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(jwksFetches > fetchesBefore, 'the gateway refetched the JWKS for the new kid');
    // The old keys still work after the rotation.
    assert.equal((await chat('chat-jose', bearer(await joseToken('rsa-1')))).status, 200);
  });
});

describe('API keys', () => {
  test('a configured key passes; an unknown key is refused in Azure\'s words', async () => {
    assert.equal((await chat('chat-sim', { 'api-key': TEAM_KEY })).status, 200);
    const res = await chatRefused('chat-sim', { 'api-key': `${TEAM_KEY}x` });
    assert.equal(res.status, 401);
    assert.equal(res.reason, 'invalid_api_key');
    assert.equal(res.body.error.code, '401');
    assert.match(res.body.error.message, /^Access denied due to invalid subscription key or wrong API endpoint/);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  test('a route that blocks keys refuses a valid key but takes a token', async () => {
    const res = await chatRefused('chat-nokeys', { 'api-key': TEAM_KEY });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'AuthenticationTypeDisabled');
    assert.equal(res.reason, 'api_key_not_allowed');
    const token = await simToken(CHAT_APP, 'chat-secret', 2);
    assert.equal((await chat('chat-nokeys', bearer(token))).status, 200);
  });

  test('no credentials at all is a 401 asking for them', async () => {
    const res = await chat('chat-sim');
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /missing subscription key/);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });
});

// The two classes of the official SDK send a key differently: AzureOpenAI as `api-key`, OpenAI
// as `Authorization: Bearer`. One identity section serves both with the same key.
describe('one route, both SDK classes', () => {
  const azureClient = (apiKey) => new AzureOpenAI({ endpoint: gateway.url, apiKey, apiVersion: GA, maxRetries: 0 });
  const openaiClient = (apiKey) => new OpenAI({ baseURL: `${gateway.url}/openai/v1`, apiKey, maxRetries: 0 });
  const ask = (client) => client.chat.completions.create({
    model: 'chat-sim', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 3,
  });

  test('AzureOpenAI and OpenAI pass with the same key', async () => {
    for (const [name, client] of [['AzureOpenAI', azureClient(TEAM_KEY)], ['OpenAI', openaiClient(TEAM_KEY)]]) {
      const data = await ask(client);
      assert.equal(data.object, 'chat.completion', name);
      assert.equal(data.usage.completion_tokens, 3, name);
    }
  });

  test('a wrong key is a 401 in the API\'s error format from either class', async () => {
    for (const [name, client] of [['AzureOpenAI', azureClient(`${TEAM_KEY}x`)], ['OpenAI', openaiClient(`${TEAM_KEY}x`)]]) {
      const before = loggedReasons().length;
      const error = await ask(client).then(() => assert.fail(`${name}: a wrong key passed`), (e) => e);
      assert.ok(error instanceof OpenAI.AuthenticationError, `${name}: ${error}`);
      assert.equal(error.status, 401, name);
      assert.equal(error.error.code, '401', name);
      assert.match(error.error.message, /^Access denied due to invalid subscription key or wrong API endpoint/, name);
      const reasons = await pollUntil(loggedReasons, (r) => r.length > before, { intervalMs: 10 });
      assert.equal(reasons[before], 'invalid_api_key', name);
    }
  });

  test('a JWT in Authorization is still validated as a JWT', async () => {
    const token = await simToken(CHAT_APP, 'chat-secret', 2);
    // OpenAI({apiKey: token}) and AzureOpenAI({azureADTokenProvider}) both send it as a bearer.
    assert.equal((await ask(openaiClient(token))).object, 'chat.completion');
    const entra = new AzureOpenAI({
      endpoint: gateway.url, azureADTokenProvider: async () => token, apiVersion: GA, maxRetries: 0,
    });
    assert.equal((await ask(entra)).object, 'chat.completion');

    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.roles = ['Admin'];
    const tampered = `${h}.${b64url(JSON.stringify(claims))}.${s}`;
    const before = loggedReasons().length;
    const error = await ask(openaiClient(tampered)).then(() => assert.fail('a tampered token passed'), (e) => e);
    assert.equal(error.status, 401);
    assert.equal(
      error.error.message,
      `Unauthorized. Access token is missing, invalid, audience is incorrect (${AZURE_AUDIENCE}), or have expired.`,
    );
    const reasons = await pollUntil(loggedReasons, (r) => r.length > before, { intervalMs: 10 });
    assert.equal(reasons[before], 'bad_signature', 'checked as a JWT, not looked up as a key');
  });
});

describe('operations', () => {
  test('refusals are logged with their reason, never with the credential', async () => {
    const token = await joseToken('rsa-1', { claims: { aud: 'https://wrong.example' } });
    const before = loggedReasons().length;
    await chat('chat-jose', bearer(token));
    await chat('chat-sim', { 'api-key': 'leaky-key-should-not-appear' });
    const reasons = await pollUntil(loggedReasons, (r) => r.length >= before + 2);
    assert.deepEqual(reasons.slice(before), ['wrong_audience', 'invalid_api_key']);
    const { stderr } = gateway.output();
    assert.match(stderr, /refused: wrong_audience/);
    assert.match(stderr, /refused: invalid_api_key/);
    assert.ok(!stderr.includes(token.split('.')[2]), 'token signature in the log');
    assert.ok(!stderr.includes(token.split('.')[1]), 'token payload in the log');
    assert.ok(!stderr.includes('leaky-key-should-not-appear'), 'API key in the log');
  });

  test('a bad identity section stops `sluice gateway` with file, line and key', () => {
    const path = tempFile('bad.yaml', `listeners: [{port: 0}]
backends: [{name: b, url: "http://127.0.0.1:9"}]
pools: [{name: p, members: [{backend: b}]}]
policies:
  identity:
    jwt:
      issuers: [x]
      audiences: [y]
      jwks_url: http://127.0.0.1:9/keys
      algorithms: [RS256, HS256]
routes: [{name: r, pool: p}]
`);
    const run = spawnSync(sluiceBin, ['gateway', '--check', '--config', path], { encoding: 'utf8', timeout: HANG_BOUND_MS });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10:\\d+: policies\\.identity\\.jwt\\.algorithms\\[1\\]: HMAC`));
  });
});
