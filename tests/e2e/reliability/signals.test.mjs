// The fault matrix, signal rows: SIGHUP reloads in the middle of load, and SIGTERM while 1,000
// streams are open. For each: what the clients got (every request answered in full), that the
// process ends as it should, and that the usage store holds exactly one record per request.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
  exitCode, fetchWithTimeout, postChat, startGateway, startSluice, tempDir, tempFile,
} from '../helpers.mjs';
import { storeRows } from '../../integration/usage_support.mjs';

const STREAMS = 1000;
let sim;

// Streams of 150 tokens at 10 tokens/s: every one of the 1,000 is still open when SIGTERM comes.
const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
deployments:
  slow: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 10ms, tokens_per_second: 10, natural_length: 150}
  quick: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 1ms, tokens_per_second: 2000, natural_length: 12}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(dir, { extraRoute = false } = {}) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends: [{name: sim, url: "${sim.url}", auth: {type: api-key, key: upstream-key}}]
pools: [{name: main, members: [{backend: sim}]}]
routes:
  - {name: all, match: {deployments: [slow, quick]}, pool: main}
${extraRoute ? '  - {name: extra, match: {deployments: [extra]}, pool: main}\n' : ''}drain_timeout: 120s
policies:
  usage: {journal: ${dir}/journal, store: ${dir}/usage.db, ship_interval: 50ms}
`;
}

// Reads a whole SSE body; resolves {events, done, finished}.
async function readStream(response, onFirstChunk = () => {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let first = true;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (first) {
      first = false;
      onFirstChunk();
    }
    text += decoder.decode(value, { stream: true });
  }
  const data = text.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
  return {
    events: data.length,
    done: data.at(-1) === '[DONE]',
    finished: data.some((d) => d !== '[DONE]' && JSON.parse(d).choices?.[0]?.finish_reason),
  };
}

async function recordsIn(store) {
  const rows = await storeRows(store);
  const ids = new Set(rows.map((row) => row.request_id));
  assert.equal(ids.size, rows.length, 'no request id twice in the store');
  return rows.reduce((sum, row) => sum + row.requests, 0);
}

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
});

after(async () => {
  await sim?.stop();
});

test('SIGHUP five times during load: every request answered in full, one record each', { timeout: 300000 }, async () => {
  const dir = tempDir('sluice-sighup-');
  const configPath = tempFile('gateway.yaml', gatewayConfig(dir));
  const gateway = await startGateway(configPath);
  const WORKERS = 8;
  const PER_WORKER = 50;
  const failures = [];
  let answered = 0;
  let reloads = 0;
  const worker = async (w) => {
    for (let i = 0; i < PER_WORKER; i++) {
      const stream = i % 2 === 1;
      const res = await postChat(gateway.url, 'quick', { messages: [{ role: 'user', content: `w${w} r${i}` }], stream });
      if (res.status !== 200) {
        failures.push(`${res.status} ${await res.text()}`);
        continue;
      }
      if (stream) {
        const seen = await readStream(res);
        if (!seen.done || !seen.finished) failures.push(`stream w${w} r${i} cut: ${JSON.stringify(seen)}`);
      } else {
        const body = await res.json();
        if (!body.choices?.[0]?.finish_reason) failures.push(`body w${w} r${i}: ${JSON.stringify(body)}`);
      }
      answered += 1;
      // Reload five times, spread over the run, alternating between two valid configurations.
      if (w === 0 && i % 10 === 5) {
        writeFileSync(configPath, gatewayConfig(dir, { extraRoute: reloads % 2 === 0 }));
        gateway.process.kill('SIGHUP');
        reloads += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  assert.deepEqual(failures, []);
  assert.equal(answered, WORKERS * PER_WORKER);
  assert.equal(reloads, 5);
  const stderr = gateway.output().stderr;
  assert.equal((stderr.match(/reload refused/g) ?? []).length, 0, stderr);
  assert.equal(await gateway.stop(), 0);
  assert.equal(await recordsIn(`${dir}/usage.db`), WORKERS * PER_WORKER);
  console.log(`SIGHUP x${reloads} during ${answered} requests: 0 failed, ${answered} records`);
});

test(`SIGTERM with ${STREAMS} streams open: each finishes, new connections are refused, exit 0, one record each`, { timeout: 600000 }, async () => {
  const dir = tempDir('sluice-sigterm-');
  const gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(dir)));
  let started = 0;
  let finished = 0;
  let allStarted;
  const everyoneStarted = new Promise((resolve) => { allStarted = resolve; });
  const streams = Array.from({ length: STREAMS }, async (_, i) => {
    const res = await postChat(gateway.url, 'slow', { messages: [{ role: 'user', content: `stream ${i}` }], stream: true });
    if (res.status !== 200) return { status: res.status, body: await res.text() };
    const seen = await readStream(res, () => {
      if (++started === STREAMS) allStarted();
    });
    finished += 1;
    return { status: 200, ...seen };
  });
  // If some stream cannot start, the results below say which; do not wait for it forever.
  await Promise.race([everyoneStarted, Promise.all(streams)]);
  const openAtSigterm = started - finished;
  gateway.process.kill('SIGTERM');
  const results = await Promise.all(streams);
  const cut = results.filter((r) => r.status !== 200 || !r.done || !r.finished);
  assert.equal(cut.length, 0, `streams not finished in full: ${JSON.stringify(cut.slice(0, 3))}`);
  assert.ok(openAtSigterm > 0, 'streams were open when SIGTERM came');
  assert.equal(await exitCode(gateway.process, 180000), 0, 'exits 0 once drained');
  await assert.rejects(fetchWithTimeout(`${gateway.url}/`, {}, 2000), 'no new connections after the drain');
  assert.equal(await recordsIn(`${dir}/usage.db`), STREAMS, 'the store holds one record per stream after exit');
  console.log(`SIGTERM with ${openAtSigterm} of ${STREAMS} streams open: all finished in full, exit 0, ${STREAMS} records`);
});
