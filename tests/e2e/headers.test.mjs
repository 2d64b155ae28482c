// Which headers cross the gateway: end-to-end ones go through both ways; hop-by-hop ones
// (RFC 9110 §7.6.1) and the client's own credentials never reach the backend, in any letter case,
// and the backend's hop-by-hop ones never reach the client. The backend is a plain node:http
// server that records what it was sent, and the client is node:http too, because fetch refuses
// to send several of these headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, tempFile } from './helpers.mjs';

let upstream, upstreamUrl, tokens, gateway;
const tokenRequests = [];
const seen = [];

const completion = JSON.stringify({
  id: 'chatcmpl-headers', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hi' } }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

before(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      seen.push({ headers: req.rawHeaders, body });
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Upstream-Custom', 'kept');
      res.setHeader('Proxy-Authenticate', 'Basic realm="upstream"');
      res.setHeader('Upgrade', 'h2c');
      res.setHeader('Trailer', 'X-Checksum');
      // A backend that is itself a gateway (another sluice) sends ids of its own.
      if (req.headers['x-test-chained']) {
        res.setHeader('X-Request-Id', 'backend-request-id');
        res.setHeader('X-Sluice-Request-Id', 'upstream-gateway-id');
      }
      res.end(completion);
    });
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
  // An OAuth2 token endpoint for the oauth2 backend: one token, good for an hour.
  tokens = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      tokenRequests.push(body);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'backend-token' }));
    });
  });
  await new Promise((resolve) => tokens.listen(0, '127.0.0.1', resolve));
  const tokenUrl = `http://127.0.0.1:${tokens.address().port}/tenant/oauth2/v2.0/token`;
  gateway = await startGateway(tempFile('headers-gateway.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: upstream, url: "${upstreamUrl}", auth: {type: api-key, key: backend-key}}
  - {name: passthrough, url: "${upstreamUrl}", auth: {type: passthrough}}
  - {name: oauth2, url: "${upstreamUrl}", auth: {type: oauth2, token_url: "${tokenUrl}", client_id: gw, client_secret: s3cret, scope: "https://cognitiveservices.azure.com/.default"}}
  - {name: custom-header, url: "${upstreamUrl}", auth: {type: api-key, header: X-Backend-Key, key: backend-key}}
pools:
  - {name: chat, members: [{backend: upstream}]}
  - {name: passthrough, members: [{backend: passthrough}]}
  - {name: oauth2, members: [{backend: oauth2}]}
  - {name: custom-header, members: [{backend: custom-header}]}
routes:
  - {name: chat, match: {deployments: [gpt-4o]}, pool: chat}
  - {name: passthrough, match: {deployments: [passthrough]}, pool: passthrough}
  - {name: oauth2, match: {deployments: [oauth2]}, pool: oauth2}
  - {name: custom-header, match: {deployments: [custom-header]}, pool: custom-header}
`));
});

after(async () => {
  await gateway?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  await new Promise((resolve) => tokens?.close(resolve));
});

// Headers as [name, value] pairs, names lower-cased, in the order sent.
function pairs(rawHeaders) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) out.push([rawHeaders[i].toLowerCase(), rawHeaders[i + 1]]);
  return out;
}

function post(headers, deployment = 'gpt-4o') {
  const url = new URL(`${gateway.url}/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`);
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4 });
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
      timeout: 30000,
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: pairs(res.rawHeaders), text }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

test('end-to-end headers pass both ways; hop-by-hop ones and the client credentials stop at the gateway', async () => {
  const answer = await post({
    'X-Client-Custom': 'kept',
    'API-KEY': 'client-secret-upper',
    'Authorization': 'Bearer client-secret-bearer',
    'Proxy-Authorization': 'Basic Y2xpZW50OnNlY3JldA==',
    'TE': 'trailers',
    'Keep-Alive': 'timeout=5',
    'Connection': 'keep-alive, TE',
    // The gateway writes these two itself: the client's must not reach the backend beside them.
    'X-Forwarded-For': '203.0.113.9',
    'X-MS-Client-Request-Id': 'client-chosen-id',
  });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(JSON.parse(answer.text).id, 'chatcmpl-headers');

  assert.equal(seen.length, 1);
  const sent = pairs(seen[0].headers);
  const valuesOf = (name) => sent.filter(([n]) => n === name).map(([, v]) => v);
  assert.deepEqual(valuesOf('x-client-custom'), ['kept']);
  assert.deepEqual(valuesOf('api-key'), ['backend-key'], 'only the backend key, once');
  for (const name of ['authorization', 'proxy-authorization', 'te', 'keep-alive']) {
    assert.deepEqual(valuesOf(name), [], `${name} must not reach the backend`);
  }
  assert.ok(!sent.some(([, v]) => v.includes('client-secret')), 'no client secret reaches the backend');
  assert.deepEqual(valuesOf('content-length'), [String(Buffer.byteLength(seen[0].body))]);
  assert.deepEqual(valuesOf('host'), [new URL(upstreamUrl).host], 'the backend\'s host, once');

  const got = (name) => answer.headers.filter(([n]) => n === name).map(([, v]) => v);
  assert.deepEqual(valuesOf('x-forwarded-for'), ['127.0.0.1'], 'the client address the gateway saw, once');
  assert.deepEqual(valuesOf('x-ms-client-request-id'), got('x-sluice-request-id'),
    'the gateway\'s request id, once');
  assert.deepEqual(got('x-upstream-custom'), ['kept']);
  assert.deepEqual(got('content-type'), ['application/json']);
  for (const name of ['proxy-authenticate', 'upgrade', 'trailer']) {
    assert.deepEqual(got(name), [], `${name} must not reach the client`);
  }
  assert.deepEqual(got('content-length'), [String(Buffer.byteLength(answer.text))]);
});

test('the answer carries one x-request-id (the backend\'s, else the gateway\'s) and the gateway\'s own x-sluice-request-id', async () => {
  for (const chained of [false, true]) {
    seen.length = 0;
    const answer = await post(chained ? { 'X-Test-Chained': '1' } : {});
    assert.equal(answer.status, 200, answer.text);
    const got = (name) => answer.headers.filter(([n]) => n === name).map(([, v]) => v);
    const sentId = pairs(seen[0].headers).filter(([n]) => n === 'x-ms-client-request-id').map(([, v]) => v);
    assert.equal(sentId.length, 1);
    // The gateway's id replaces an upstream gateway's, once.
    assert.deepEqual(got('x-sluice-request-id'), sentId, `chained=${chained}`);
    assert.deepEqual(got('x-request-id'), chained ? ['backend-request-id'] : sentId, `chained=${chained}`);
  }
});

// Each kind of backend credential reaches the backend once, in its own field, whatever the client
// sent in that field.
test('every kind of backend credential goes out once: passthrough, oauth2, a custom api-key header', async () => {
  const clientCredentials = { 'api-key': 'client-key', 'Authorization': 'Bearer client-token' };
  const cases = [
    // The client's own credentials are the backend's: each once, as the client sent it.
    { deployment: 'passthrough', headers: clientCredentials,
      expect: { 'api-key': ['client-key'], authorization: ['Bearer client-token'] } },
    // The token from the token endpoint, and none of the client's.
    { deployment: 'oauth2', headers: clientCredentials,
      expect: { 'api-key': [], authorization: ['Bearer backend-token'] } },
    // A key in a field of the operator's choosing replaces the client's value of that field.
    { deployment: 'custom-header', headers: { ...clientCredentials, 'X-Backend-Key': 'client-value' },
      expect: { 'api-key': [], authorization: [], 'x-backend-key': ['backend-key'] } },
  ];
  for (const { deployment, headers, expect } of cases) {
    seen.length = 0;
    const answer = await post(headers, deployment);
    assert.equal(answer.status, 200, `${deployment}: ${answer.text}`);
    assert.equal(seen.length, 1, deployment);
    const sent = pairs(seen[0].headers);
    for (const [name, values] of Object.entries(expect)) {
      assert.deepEqual(sent.filter(([n]) => n === name).map(([, v]) => v), values, `${deployment}: ${name}`);
    }
  }
  assert.equal(tokenRequests.length, 1, 'one token fetched');
  assert.match(tokenRequests[0], /grant_type=client_credentials/);
});
