// The fault matrix, backend rows: the gateway in front of a backend that fails in every way a real
// one does (tests/e2e/reliability/fault_backend.mjs), driven by the official `openai` client. For each
// fault: what the client got (a clean error in the API's format, never a cut-off answer passed off
// as whole, never a hang), that the gateway stays up, and that the usage store holds exactly one
// record per request. The last test prints the matrix that docs/reliability.md gives.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import { fetchWithTimeout, freePort, pollUntil, startGateway, tempDir, tempFile } from '../helpers.mjs';
import { storeRows } from '../../integration/usage_support.mjs';
import { startFaultBackend } from './fault_backend.mjs';

let backend;
let gateway;
let store;
const sent = {};    // deployment → requests sent
const matrix = [];  // rows for the printed table

function gatewayConfig(backendUrl, deadPort, dir) {
  // Short timeouts so that every stalled row ends within seconds; the breaker is set not to trip
  // so each row meets the fault itself, not an open breaker.
  const timeouts = '{connect: 2s, response: 3s, stream_idle: 2s, stream_max: 3s}';
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: faulty, url: "${backendUrl}", timeouts: ${timeouts}}
  - {name: refusing, url: "http://127.0.0.1:${deadPort}", timeouts: ${timeouts}}
pools:
  - {name: faulty, members: [{backend: faulty}], breaker: {failures: 100000}, retry: {max_attempts: 1}}
  - {name: refusing, members: [{backend: refusing}], breaker: {failures: 100000}, retry: {max_attempts: 1}}
routes:
  - {name: refuse, match: {deployments: [refuse]}, pool: refusing}
  - {name: rest, pool: faulty}
policies:
  usage: {journal: ${dir}/journal, store: ${dir}/usage.db, ship_interval: 50ms}
`;
}

function client() {
  return new AzureOpenAI({ endpoint: gateway.url, apiKey: 'unused', apiVersion: '2024-10-21', maxRetries: 0, timeout: 60000 });
}

// Sends one chat completion to deployment `fault`; resolves what the client saw:
// {status, code, message, chunks, finished, content}.
async function ask(fault, { stream = false, abortAfterChunks = 0 } = {}) {
  sent[fault] = (sent[fault] ?? 0) + 1;
  const messages = [{ role: 'user', content: `fault ${fault}` }];
  const seen = { status: 200, code: null, message: '', chunks: 0, finished: false, content: '' };
  const controller = new AbortController();
  try {
    if (stream) {
      const response = await client().chat.completions.create({ model: fault, messages, stream: true }, { signal: controller.signal });
      for await (const chunk of response) {
        seen.chunks += 1;
        seen.content += chunk.choices?.[0]?.delta?.content ?? '';
        if (chunk.choices?.[0]?.finish_reason) seen.finished = true;
        if (abortAfterChunks && seen.chunks === abortAfterChunks) controller.abort();
      }
    } else {
      const answer = await client().chat.completions.create({ model: fault, messages });
      seen.content = answer.choices?.[0]?.message?.content ?? '';
      seen.finished = Boolean(answer.choices?.[0]?.finish_reason);
    }
  } catch (error) {
    seen.status = error.status ?? (controller.signal.aborted ? 'aborted' : 'error');
    seen.code = error.code ?? error.error?.code ?? null;
    seen.message = String(error.message);
  }
  return seen;
}

function note(fault, mode, seen, expectation) {
  matrix.push({ fault, mode, client_got: `${seen.status}${seen.code ? ` ${seen.code}` : ''}${seen.chunks ? ` after ${seen.chunks} chunks` : ''}`, expectation });
}

async function healthy() {
  return (await fetchWithTimeout(`${gateway.admin}/healthz`)).status === 200;
}

before(async () => {
  backend = await startFaultBackend();
  const dir = tempDir('sluice-faults-');
  store = `${dir}/usage.db`;
  gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(backend.url, await freePort(), dir)));
});

after(async () => {
  await gateway?.stop();
  await backend?.close();
});

test('control: a healthy answer, plain and streamed', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('ok', { stream });
    assert.equal(seen.status, 200, JSON.stringify(seen));
    assert.equal(seen.content, 'Hello from the fault backend.');
    assert.equal(seen.finished, true);
    note('none (control)', stream ? 'stream' : 'plain', seen, '200, the answer');
  }
});

test('backend refuses connections: 502 bad_gateway naming the cause, both modes', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('refuse', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    assert.equal(seen.code, 'bad_gateway');
    assert.match(seen.message, /nothing is listening on 127\.0\.0\.1:\d+/);
    note('refuses connections', stream ? 'stream' : 'plain', seen, '502 bad_gateway');
  }
});

test('backend resets mid-body: 502, never a cut-off body passed on as 200', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('reset-mid-body', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    assert.match(seen.message, /reset|closed/i);
    note('resets mid-body', stream ? 'stream' : 'plain', seen, '502 bad_gateway');
  }
});

test('backend resets mid-stream: the client gets the chunks so far, then an APIError (not a clean end)', async () => {
  const seen = await ask('reset-mid-stream', { stream: true });
  assert.equal(seen.chunks, 3, JSON.stringify(seen));
  assert.equal(seen.content, 'one two three ');
  assert.equal(seen.finished, false);
  assert.equal(seen.code, 'stream_interrupted', JSON.stringify(seen));
  assert.match(seen.message, /incomplete/);
  note('resets mid-stream', 'stream', seen, 'chunks, then error event stream_interrupted');
  const plain = await ask('reset-mid-stream');
  assert.equal(plain.status, 502, JSON.stringify(plain));
  note('resets mid-stream', 'plain', plain, '502 bad_gateway');
});

test('backend stalls after the headers: 502 after the response timeout, both modes', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('stall-after-headers', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    assert.match(seen.message, /timeout/i);
    note('stalls after headers', stream ? 'stream' : 'plain', seen, '502 after timeouts.response');
  }
});

test('backend drips one byte a second: 502 once the response timeout passes, both modes', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('drip', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    note('drips a byte a second', stream ? 'stream' : 'plain', seen, '502 after timeouts.response');
  }
});

test('backend sends garbage: 502 saying what came back', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('garbage', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    note('sends garbage', stream ? 'stream' : 'plain', seen, '502 bad_gateway');
  }
});

test('backend promises a 2 GB body: 502 at the size limit, and the gateway never holds it', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('huge-body', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    assert.match(seen.message, /over the (gateway's )?limit of 64 MiB/);
    note('2 GB body', stream ? 'stream' : 'plain', seen, '502 at the 64 MiB limit');
  }
  const status = readFileSync(`/proc/${gateway.process.pid}/status`, 'utf8');
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  assert.ok(peakKiB < 1024 * 1024, `gateway peak RSS ${peakKiB} KiB: it must not buffer the 2 GB body`);
});

test('backend never ends a stream: chunks, then stream_timeout at timeouts.stream_max', async () => {
  const seen = await ask('endless-stream', { stream: true });
  assert.ok(seen.chunks > 0, JSON.stringify(seen));
  assert.equal(seen.code, 'stream_timeout', JSON.stringify(seen));
  assert.match(seen.message, /stream_max/);
  note('never ends a stream', 'stream', seen, 'chunks, then error event stream_timeout');
});

test('a client that leaves an endless stream frees the upstream connection', async () => {
  const seen = await ask('endless-stream', { stream: true, abortAfterChunks: 3 });
  assert.equal(seen.chunks, 3);
  const inFlight = await pollUntil(async () => {
    const r = await fetchWithTimeout(`${gateway.admin}/admin/backends`);
    return (await r.json()).backends.reduce((sum, b) => sum + b.in_flight, 0);
  }, (n) => n === 0);
  assert.equal(inFlight, 0);
  note('never ends a stream, client leaves', 'stream', seen, 'upstream freed, record kept');
});

test('Content-Length longer than the body: 502 (partial message), both modes', async () => {
  for (const stream of [false, true]) {
    const seen = await ask('short-content-length', { stream });
    assert.equal(seen.status, 502, JSON.stringify(seen));
    note('Content-Length longer than body', stream ? 'stream' : 'plain', seen, '502 bad_gateway');
  }
});

test('Content-Length shorter than the body: the rest is never read as the next answer', async () => {
  const lying = await ask('long-content-length');
  // The backend's own (cut) answer is relayed as it declared it; the client cannot parse it.
  assert.notEqual(lying.status, 502, JSON.stringify(lying));
  note('Content-Length shorter than body', 'plain', lying, 'what the backend declared');
  for (let i = 0; i < 3; i++) {
    const next = await ask('ok', { stream: i % 2 === 1 });
    assert.equal(next.status, 200, `request ${i} after the lying answer: ${JSON.stringify(next)}`);
    assert.equal(next.content, 'Hello from the fault backend.');
  }
  note('the requests after it', 'both', { status: 200 }, '200: the connection was not reused');
});

test('after every fault: the gateway is up and each request has exactly one usage record', async () => {
  assert.ok(await healthy(), 'gateway /healthz');
  const total = Object.values(sent).reduce((a, b) => a + b, 0);
  const rows = await pollUntil(async () => {
    try {
      return await storeRows(store);
    } catch {
      return [];
    }
  }, (r) => r.reduce((sum, row) => sum + row.requests, 0) >= total, { intervalMs: 100 });
  const ids = new Set(rows.map((row) => row.request_id));
  assert.equal(ids.size, rows.length, 'no request id twice');
  const perDeployment = {};
  for (const row of rows) perDeployment[row.deployment] = (perDeployment[row.deployment] ?? 0) + row.requests;
  assert.deepEqual(perDeployment, sent, 'records per deployment == requests sent');
  console.log(`\nbackend fault matrix (${total} requests, ${rows.length} usage records, gateway up):`);
  console.table(matrix);
});
