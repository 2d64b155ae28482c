// Which headers cross the gateway: end-to-end ones go through both ways; hop-by-hop ones
// (RFC 9110 §7.6.1) and the client's own credentials never reach the backend, in any letter case,
// and the backend's hop-by-hop ones never reach the client. The backend is a plain node:http
// server that records what it was sent, and the client is node:http too, because fetch refuses
// to send several of these headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, tempFile } from './helpers.mjs';

let upstream, upstreamUrl, gateway;
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
      res.end(completion);
    });
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
  gateway = await startGateway(tempFile('headers-gateway.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: upstream, url: "${upstreamUrl}", auth: {type: api-key, key: backend-key}}
pools:
  - {name: chat, members: [{backend: upstream}]}
routes:
  - {name: chat, match: {deployments: [gpt-4o]}, pool: chat}
`));
});

after(async () => {
  await gateway?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
});

// Headers as [name, value] pairs, names lower-cased, in the order sent.
function pairs(rawHeaders) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) out.push([rawHeaders[i].toLowerCase(), rawHeaders[i + 1]]);
  return out;
}

function post(headers) {
  const url = new URL(`${gateway.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`);
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
