// Crash test for usage records: `kill -9` the gateway in the middle of a load run, restart it on
// the same journal, and check that every request whose client got a complete response has exactly
// one record in the store and that no request has two. Run against SQLite and a real PostgreSQL
// server started here. The restart also forgets how far shipping got (shipped.offset), so the
// whole journal is replayed into a store that already holds most of it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  fetchWithTimeout, gatewayRequestId as idOf, pollUntil, sleep, startGateway, startSluice, tempDir, tempFile,
} from './helpers.mjs';
import { startPostgres, waitForRows } from '../integration/usage_support.mjs';

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 10ms, tokens_per_second: 400, natural_length: 12}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(simUrl, journal, store) {
  return `
listeners: [{port: 0, threads: 2}]
admin: {port: 0}
backends: [{name: sim, url: ${simUrl}, auth: {type: api-key, key: upstream-key}}]
pools: [{name: main, members: [{backend: sim}]}]
routes: [{name: all, pool: main}]
policies:
  usage: {journal: ${journal}, store: "${store}", ship_interval: 50ms}
`;
}

// Closed-loop load until `stop()` is called; every response that completed is remembered.
function runLoad(url, workers) {
  const completed = [];
  let failed = 0;
  let running = true;
  const client = new AzureOpenAI({ endpoint: url, apiKey: 'unused', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0, timeout: 60000 });
  const worker = async (w) => {
    for (let i = 0; running; i++) {
      const messages = [{ role: 'user', content: `worker ${w} request ${i}` }];
      try {
        if (i % 2) {
          const { data: stream, response } = await client.chat.completions.create({ messages, stream: true }).withResponse();
          let done = false;
          for await (const chunk of stream) if (chunk.choices?.[0]?.finish_reason) done = true;
          // The iterator ends without throwing only when the body ended cleanly.
          if (done) completed.push(idOf(response.headers));
        } else {
          const { data, response } = await client.chat.completions.create({ messages }).withResponse();
          if (data.usage?.total_tokens > 0) completed.push(idOf(response.headers));
        }
      } catch {
        failed += 1;
        if (running) await sleep(20);
      }
    }
  };
  const all = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    completed,
    failed: () => failed,
    stop: async () => {
      running = false;
      await all;
    },
  };
}

for (const kind of ['sqlite', 'postgresql']) {
  describe(`usage records survive kill -9 (${kind} store)`, () => {
    let sim;
    let gateway;
    let postgres;
    let store;
    let dir;
    let load;
    let completedBeforeKill;

    before(async () => {
      dir = tempDir();
      store = kind === 'postgresql' ? (postgres = await startPostgres()).url : join(dir, 'usage.db');
      sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
      const config = tempFile('gateway.yaml', gatewayConfig(sim.url, join(dir, 'journal'), store));
      gateway = await startGateway(config);
      load = runLoad(gateway.url, 24);
      // Kill once the load is well under way, however long that takes on this machine.
      completedBeforeKill = await pollUntil(() => load.completed.length, (n) => n > 50, { intervalMs: 20 });
      gateway.process.kill('SIGKILL');
      await new Promise((r) => gateway.process.once('exit', r));
      await load.stop();
      // As if the crash also lost the shipper's bookmark: everything is replayed.
      rmSync(join(dir, 'journal', 'shipped.offset'), { force: true });
      gateway = await startGateway(config);
    });

    after(async () => {
      if (gateway) await gateway.stop();
      if (sim) await sim.stop();
      postgres?.stop();
    });

    test('the kill landed in the middle of the load', () => {
      assert.ok(completedBeforeKill > 50, `only ${completedBeforeKill} requests completed before the kill`);
      assert.ok(load.failed() > 0, 'no request was cut by the kill');
    });

    test('every completed request has exactly one record, and no request has two', async () => {
      const completed = new Set(load.completed);
      assert.equal(completed.size, load.completed.length, 'request ids are unique');
      const rows = await waitForRows(store, (r) => {
        const ids = new Set(r.map((row) => row.request_id));
        return [...completed].every((id) => ids.has(id));
      });
      const seen = new Map();
      for (const row of rows) {
        assert.equal(row.requests, 1, `${row.request_id} has ${row.requests} records`);
        assert.ok(!seen.has(row.request_id), `${row.request_id} appears twice`);
        seen.set(row.request_id, row);
      }
      const missing = [...completed].filter((id) => !seen.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${completed.size} completed requests have no record`);
      for (const id of completed) {
        const row = seen.get(id);
        assert.equal(row.status, '200');
        assert.ok(row.total_tokens > 0, `record of ${id} has tokens`);
      }
    });

    test('the restarted gateway replayed the journal without duplicating', async () => {
      const replayedIn = (text) => Number(text.match(/^sluice_usage_replayed_total\{[^}]*\} (\d+)$/m)?.[1] ?? 0);
      const text = await pollUntil(async () => (await fetchWithTimeout(`${gateway.admin}/metrics`)).text(),
        (t) => replayedIn(t) > 0, { intervalMs: 100 });
      const replayed = replayedIn(text);
      const usage = text.split('\n').filter((l) => l.startsWith('sluice_usage')).join('\n');
      assert.ok(replayed > 0, `the journal was replayed into the store:\n${usage}`);
      assert.match(usage, /sluice_usage_store_up\{[^}]*\} 1/);
    });
  });
}
