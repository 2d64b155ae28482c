// HTTPS through a real HTTP proxy: `sluice load` and `sluice gateway` reach a TLS `sluice sim`
// through tinyproxy on loopback, by CONNECT tunnel with Basic proxy authentication, and the
// environment's HTTPS_PROXY / NO_PROXY are honoured as curl honours them.
//
// tinyproxy (Debian package `tinyproxy`, in scripts/install-deps.sh) is started here with its own
// configuration in a temporary directory, never as the system service, and killed at the end.
// Without it the suite fails at once with a message saying so: it does not skip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OpenAI } from 'openai';

import {
  fetchWithTimeout, findTinyproxy, freePort, NO_PROXY_ENV, pollUntil, runSluice, startGateway, startSluice, startTinyproxy,
  stopProcess, tempDir, writeIn,
} from './helpers.mjs';

const PROXY_USER = 'proxyuser';
const PROXY_PASSWORD = 'proxy-pass-5e3f';
const API_KEY = 'proxy-api-key';

let dir;
let sim;          // TLS sim: {url: https://127.0.0.1:PORT, ...}
let simPort;
let proxy;        // {port, process, log()}
let certFile;

const connectsTo = (log, port) => log.split('\n').filter((line) => line.includes(`CONNECT 127.0.0.1:${port}`)).length;

function loadTest(id, { vus = 2, loops = 3 } = {}) {
  return writeIn(dir, `${id}.yaml`, `version: v0.1
testId: ${id}
target: {endpoint: "${sim.url}", deployment: chat, apiVersion: 2024-10-21}
auth: {type: apiKey, key: ${API_KEY}}
request:
  messages:
    - {role: user, content: "hello through the proxy"}
  max_tokens: 5
load:
  virtualUsers: ${vus}
  loops: ${loops}
`);
}

// Runs `sluice load run` with the sim's CA; resolves {code, stdout, stderr, results, jtl}.
async function load(id, args = [], env = {}) {
  const out = join(dir, `out-${id}`);
  const r = await runSluice(['load', 'run', loadTest(id), '--out', out, '--ca-file', certFile, ...args], { env });
  const resultsPath = join(out, 'results.json');
  const results = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : null;
  const jtlPath = join(out, 'results.jtl');
  const jtl = existsSync(jtlPath) ? readFileSync(jtlPath, 'utf8') : '';
  return { ...r, results, jtl };
}

const proxyUrl = (user = PROXY_USER, password = PROXY_PASSWORD) => `http://${user}:${password}@127.0.0.1:${proxy.port}`;

// The only label of a run, and its summary.
function onlyLabel(results) {
  const labels = Object.entries(results.labels_summary);
  assert.equal(labels.length, 1, JSON.stringify(results.labels_summary));
  return labels[0][1];
}

before(async () => {
  assert.ok(findTinyproxy(), 'tinyproxy is not installed (Debian package tinyproxy; scripts/install-deps.sh installs it)');
  dir = tempDir('sluice-proxy-e2e-');
  certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', certFile],
  { stdio: 'ignore' });
  writeIn(dir, 'sim.yaml', `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 5
deployments:
  chat: {model: gpt-4o, tokens_per_minute: 100000000, time_to_first_token: 5ms, tokens_per_second: 2000, natural_length: 8}
auth: {mode: keys, api_keys: [{name: proxy-test, key: ${API_KEY}}]}
`);
  sim = await startSluice(['sim', '--config', join(dir, 'sim.yaml'), '--tls-cert', certFile, '--tls-key', join(dir, 'key.pem')],
    { readyPattern: /listening on (https:\/\/\S+)/ });
  simPort = Number(new URL(sim.url).port);
  proxy = await startTinyproxy(dir, { user: PROXY_USER, password: PROXY_PASSWORD, connectPort: simPort });
});

after(async () => {
  if (proxy) await stopProcess(proxy.process);
  if (sim) await sim.stop();
});

describe('sluice load through tinyproxy', () => {
  test('--proxy with credentials tunnels https with CONNECT: every sample succeeds', async () => {
    const before = connectsTo(proxy.log(), simPort);
    const r = await load('explicit', ['--proxy', proxyUrl()], NO_PROXY_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const summary = onlyLabel(r.results);
    assert.equal(summary.requests, 6);
    assert.equal(summary.errors, 0);
    // The proxy saw the tunnels (one per connection; keep-alive reuses them).
    const tunnels = await pollUntil(() => connectsTo(proxy.log(), simPort) - before, (n) => n >= 1);
    assert.ok(tunnels >= 1 && tunnels <= 6, `CONNECTs in tinyproxy's log: ${tunnels}\n${proxy.log()}`);
    // Which proxy is used is said, and the password is not.
    assert.match(r.stderr, new RegExp(`https targets via http://${PROXY_USER}:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port} \\(--proxy\\)`));
    for (const text of [r.stdout, r.stderr, r.jtl, JSON.stringify(r.results)]) {
      assert.ok(!text.includes(PROXY_PASSWORD), 'the proxy password leaked');
    }
  });

  // tinyproxy answers a CONNECT without credentials 407, and one with wrong credentials 401.
  test('wrong credentials: every sample fails with the proxy\'s refusal, explained', async () => {
    const r = await load('wrong-password', ['--proxy', proxyUrl(PROXY_USER, 'not-the-password')], NO_PROXY_ENV);
    const summary = onlyLabel(r.results);
    assert.equal(summary.requests, 6);
    assert.equal(summary.errors, 6);
    assert.ok(r.jtl.includes(`proxy 127.0.0.1:${proxy.port} refused CONNECT to 127.0.0.1:${simPort}: 401 Unauthorized`), r.jtl);
    assert.ok(r.jtl.includes(`did not accept the credentials of user '${PROXY_USER}'`), r.jtl);
    assert.ok(!r.jtl.includes('not-the-password') && !r.stderr.includes('not-the-password'));
  });

  test('no credentials: the 407 message says how to give them', async () => {
    const r = await load('anonymous', ['--proxy', `http://127.0.0.1:${proxy.port}`], NO_PROXY_ENV);
    assert.equal(onlyLabel(r.results).errors, 6);
    assert.ok(r.jtl.includes(`refused CONNECT to 127.0.0.1:${simPort}: 407 Proxy Authentication Required — it wants credentials: give them as http://user:pass@host:port`), r.jtl);
  });

  test('HTTPS_PROXY from the environment is used, and NO_PROXY bypasses it', async () => {
    const before = connectsTo(proxy.log(), simPort);
    const viaEnv = await load('environment', [], { ...NO_PROXY_ENV, HTTPS_PROXY: proxyUrl() });
    assert.equal(viaEnv.code, 0, viaEnv.stderr + viaEnv.stdout);
    assert.equal(onlyLabel(viaEnv.results).errors, 0);
    assert.match(viaEnv.stderr, /https targets via http:\/\/proxyuser:\*\*\*@127\.0\.0\.1:\d+ \(HTTPS_PROXY\)/);
    const after = await pollUntil(() => connectsTo(proxy.log(), simPort), (n) => n > before);
    assert.ok(after > before, 'the environment proxy was not used');

    // A proxy nothing listens on: only a bypass lets these requests through.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const bypassed = await load('no-proxy', [], { ...NO_PROXY_ENV, HTTPS_PROXY: dead, NO_PROXY: 'localhost,127.0.0.1' });
    assert.equal(bypassed.code, 0, bypassed.stderr + bypassed.stdout);
    assert.equal(onlyLabel(bypassed.results).errors, 0);
    const flag = await load('noproxy-flag', ['--proxy', dead, '--noproxy', '127.0.0.1'], NO_PROXY_ENV);
    assert.equal(onlyLabel(flag.results).errors, 0, flag.jtl);
    // --proxy "" means no proxy at all, whatever the environment says (as in curl).
    const none = await load('proxy-none', ['--proxy', ''], { ...NO_PROXY_ENV, HTTPS_PROXY: dead });
    assert.equal(onlyLabel(none.results).errors, 0, none.jtl);
    // The control: without the bypass the dead proxy is tried, and named in the failure.
    const blocked = await load('dead-proxy', [], { ...NO_PROXY_ENV, HTTPS_PROXY: dead });
    assert.equal(onlyLabel(blocked.results).errors, 6);
    assert.ok(blocked.jtl.includes(`cannot connect to proxy ${dead.slice('http://'.length)}`), blocked.jtl);
  });

  test('an unusable proxy URL stops the run before it starts, password masked', async () => {
    const r = await load('socks', ['--proxy', 'socks5://u:hidden-socks-pw@127.0.0.1:1080'], NO_PROXY_ENV);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /only http:\/\/ proxies are supported/);
    assert.ok(!r.stderr.includes('hidden-socks-pw'));
  });
});

describe('sluice gateway through tinyproxy', () => {
  function gatewayConfig(proxySetting) {
    return writeIn(dir, 'gateway.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - name: sim
    url: "${sim.url}"
    auth: {type: api-key, key: ${API_KEY}}
    proxy: "${proxySetting}"
pools: [{name: chat, members: [{backend: sim}], retry: {max_attempts: 1}}]
routes: [{name: chat, match: {deployments: [chat]}, pool: chat}]
`);
  }
  // The sim's certificate is trusted through OpenSSL's SSL_CERT_FILE; the password comes from
  // the environment through ${env:...}, as a deployment would keep it out of the file.
  const gatewayEnv = (password) => ({ ...NO_PROXY_ENV, SSL_CERT_FILE: certFile, SLUICE_TEST_PROXY_PASSWORD: password });
  const proxySetting = `http://${PROXY_USER}:\${env:SLUICE_TEST_PROXY_PASSWORD}@127.0.0.1:`;

  test('a backend with proxy: forwards to the https sim through the tunnel (openai client)', async () => {
    const before = connectsTo(proxy.log(), simPort);
    const gateway = await startGateway(gatewayConfig(proxySetting + proxy.port), { env: gatewayEnv(PROXY_PASSWORD) });
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/openai/v1`, apiKey: 'client-key', maxRetries: 0 });
      const data = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 });
      assert.equal(data.usage.completion_tokens, 4);
      const stream = await client.chat.completions.create({
        model: 'chat', messages: [{ role: 'user', content: 'Count' }], max_tokens: 3, stream: true,
        stream_options: { include_usage: true },
      });
      let usage = null;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      assert.equal(usage?.completion_tokens, 3);
      const after = await pollUntil(() => connectsTo(proxy.log(), simPort), (n) => n > before);
      assert.ok(after > before, `no CONNECT in tinyproxy's log\n${proxy.log()}`);
      const { stdout, stderr } = gateway.output();
      assert.match(stdout, new RegExp(`backend sim via proxy http://${PROXY_USER}:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port}`));
      assert.ok(!stdout.includes(PROXY_PASSWORD) && !stderr.includes(PROXY_PASSWORD), 'the proxy password leaked');
      // The admin API shows the proxy each backend uses, password masked.
      const admin = await (await fetchWithTimeout(`${gateway.admin}/admin/backends`)).text();
      assert.equal(JSON.parse(admin).backends[0].proxy, `http://${PROXY_USER}:***@127.0.0.1:${proxy.port} (the proxy of backend 'sim')`);
      assert.ok(!admin.includes(PROXY_PASSWORD), 'the proxy password leaked in /admin/backends');
    } finally {
      await gateway.stop();
    }
  });

  test('wrong proxy credentials: a 502 that names the proxy and its refusal, never the password', async () => {
    const gateway = await startGateway(gatewayConfig(proxySetting + proxy.port), { env: gatewayEnv('wrong-gw-password') });
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/openai/v1`, apiKey: 'client-key', maxRetries: 0 });
      const error = await client.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 })
        .then(() => null, (e) => e);
      assert.ok(error, 'the request should have failed');
      assert.equal(error.status, 502);
      assert.match(error.message, new RegExp(`proxy 127\\.0\\.0\\.1:${proxy.port} refused CONNECT to 127\\.0\\.0\\.1:${simPort}: 401 Unauthorized — it did not accept the credentials of user '${PROXY_USER}'`));
      assert.ok(!error.message.includes('wrong-gw-password'));
      const { stdout, stderr } = gateway.output();
      assert.ok(!stdout.includes('wrong-gw-password') && !stderr.includes('wrong-gw-password'));
    } finally {
      await gateway.stop();
    }
  });

  test('the identity policy fetches its JWKS through the top-level proxy', async () => {
    const config = writeIn(dir, 'gateway-jwks.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
proxy: "${proxySetting}${proxy.port}"
backends:
  - {name: sim, url: "${sim.url}", auth: {type: api-key, key: ${API_KEY}}, proxy: none}
pools: [{name: chat, members: [{backend: sim}]}]
routes: [{name: chat, match: {deployments: [chat]}, pool: chat}]
policies:
  identity:
    jwt:
      issuers: ["https://issuer.proxy.test/"]
      audiences: ["api://proxy-test"]
      jwks_url: ${sim.url}/jwks-through-the-proxy
`);
    const before = connectsTo(proxy.log(), simPort);
    const gateway = await startGateway(config, { env: gatewayEnv(PROXY_PASSWORD) });
    try {
      // A JWT-shaped token whose key the gateway must look up: the JWKS fetch goes out.
      const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const token = `${part({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${part({ iss: 'https://issuer.proxy.test/', aud: 'api://proxy-test', iat: now, nbf: now, exp: now + 3600 })}.c2ln`;
      const res = await fetchWithTimeout(`${gateway.url}/openai/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }),
      });
      // The sim serves no keys there: 503 (keys unavailable) after the fetch; it is the fetch's
      // route that matters here.
      assert.equal(res.status, 503, await res.text());
      const after = await pollUntil(() => connectsTo(proxy.log(), simPort), (n) => n > before);
      assert.ok(after > before, `the JWKS fetch did not go through the proxy\n${proxy.log()}\n${JSON.stringify(gateway.output())}`);
    } finally {
      await gateway.stop();
    }
  });
});
