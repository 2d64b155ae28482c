// The claim behind deploy/kubernetes/gateway/: gateway replicas keep no state of their own that
// matters, because token limits live in one Redis and usage records in one PostgreSQL. Shown here
// with three gateway processes (A, B, C) in front of one `sluice sim`, on one redis-server and one
// PostgreSQL server started by the test, under bounded closed-loop load from the official `openai`
// client, all against one token quota. C is killed with SIGKILL in the middle of the run and
// restarted on the same journal.
//
// C's first life never ships its journal (ship_interval: 1h), so when the kill lands every record
// it wrote exists only in its journal; its second life (same journal, store and key, ship_interval
// 50ms) must put them into PostgreSQL. The assertions are counts only:
//   - the limit: one budget, not one per instance: the tokens the simulator served exceed the
//     quota by at most one request's estimate per instance, and every gateway ends up refusing;
//   - the usage: every answered request has exactly one record (none lost, none doubled); for A
//     and B, records == answers == the simulator's count, token sums equal; for C the only slack
//     is the requests the kill cut, which the client never saw answered.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  fetchWithTimeout, freePort, gatewayRequestId as idOf, HANG_BOUND_MS, pollUntil, simUsage, sleep, startGateway,
  startRedis, startSluice, stopProcess, tempDir, tempFile, writeIn,
} from './helpers.mjs';
import { startPostgres, storeRows } from '../integration/usage_support.mjs';

const QUOTA = 15000;
const MAX_TOKENS = 50;
const WORKERS_PER_GATEWAY = 4;
const MAX_REQUESTS_PER_WORKER = 300;  // the load's bound; the quota runs out long before it
const NAMES = ['gw-a', 'gw-b', 'gw-c'];

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 10ms, tokens_per_second: 400, natural_length: 12}
auth:
  mode: keys
  api_keys: [${NAMES.map((n) => `{name: ${n}, key: key-${n}}`).join(', ')}]
`;

// Gateway `name`: its own route name (so records say which instance answered) and its own upstream
// key (so the simulator counts per instance); everything else shared.
function gatewayConfig({ name, simUrl, journal, store, redisPort, prefix, shipInterval }) {
  return `
listeners: [{port: 0, threads: 2}]
admin: {port: 0}
backends: [{name: sim, url: "${simUrl}", auth: {type: api-key, key: key-${name}}}]
pools: [{name: main, members: [{backend: sim}], breaker: {failures: 100000}, retry: {max_attempts: 1}}]
routes: [{name: ${name}, pool: main}]
policies:
  token_limit:
    limits:
      - {name: team, counter_key: 'header:x-team', token_quota: ${QUOTA}, token_quota_period: yearly, default_completion_tokens: ${MAX_TOKENS}}
    store: redis
    redis: {url: "redis://127.0.0.1:${redisPort}", timeout: 10s, pool_size: 2, key_prefix: "${prefix}", on_failure: fail_closed}
  usage: {journal: "${journal}", store: "${store}", ship_interval: ${shipInterval}}
`;
}

let sim;
let redis;
let postgres;
const gateways = [];  // {name, url, admin, process, up}
let outcome;          // what the load saw, and the figures read around the kill

// Prometheus sample `metric` (first series) from a gateway's /metrics.
async function metricOf(gateway, metric) {
  const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
  return Number(text.match(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\d+)$`, 'm'))?.[1] ?? NaN);
}

// Closed-loop load: WORKERS_PER_GATEWAY workers per gateway, half the requests streamed, until
// stop() or MAX_REQUESTS_PER_WORKER each. Workers of a gateway that is down wait for it.
function runLoad() {
  const answered = [];  // {id, gateway, status, tokens, reserved}
  const cut = Object.fromEntries(NAMES.map((n) => [n, 0]));  // requests the client saw fail
  const other = [];     // any other outcome: a finding
  let running = true;
  const worker = async (gateway, w) => {
    for (let i = 0; running && i < MAX_REQUESTS_PER_WORKER;) {
      if (!gateway.up) {
        await sleep(10);
        continue;
      }
      i += 1;
      const client = new AzureOpenAI({
        endpoint: gateway.url, apiKey: 'unused', apiVersion: '2024-10-21', deployment: 'gpt-4o',
        maxRetries: 0, timeout: HANG_BOUND_MS, defaultHeaders: { 'x-team': 'shared' },
      });
      const messages = [{ role: 'user', content: `${gateway.name} worker ${w} request ${i}` }];
      try {
        if (i % 2) {
          const { data: stream, response } = await client.chat.completions.create({
            messages, max_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true },
          }).withResponse();
          let tokens = null;
          for await (const chunk of stream) if (chunk.usage) tokens = chunk.usage.total_tokens;
          // The iterator ends without throwing only when the stream ended cleanly.
          if (tokens === null) throw new Error('stream ended without usage');
          answered.push({ id: idOf(response.headers), gateway: gateway.name, status: 200, tokens,
            reserved: Number(response.headers.get('x-ratelimit-consumed-tokens')) });
        } else {
          const { data, response } = await client.chat.completions.create({ messages, max_tokens: MAX_TOKENS }).withResponse();
          answered.push({ id: idOf(response.headers), gateway: gateway.name, status: 200, tokens: data.usage.total_tokens,
            reserved: Number(response.headers.get('x-ratelimit-consumed-tokens')) });
        }
      } catch (error) {
        if (error.status === 403) {
          answered.push({ id: idOf(error.headers), gateway: gateway.name, status: 403, tokens: 0, reserved: 0 });
        } else if (error.status === undefined) {
          cut[gateway.name] += 1;  // connection cut (the kill) or stream broken
        } else {
          other.push(`${gateway.name}: ${error.status} ${error.message}`);
        }
      }
    }
  };
  const all = Promise.all(gateways.flatMap((g) => Array.from({ length: WORKERS_PER_GATEWAY }, (_, w) => worker(g, w))));
  return {
    answered, cut, other,
    stop: async () => {
      running = false;
      await all;
    },
  };
}

before(async () => {
  const dir = tempDir();
  const redisPort = await freePort();
  redis = await startRedis(redisPort);
  postgres = await startPostgres();
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  const shared = { simUrl: sim.url, store: postgres.url, redisPort, prefix: `e2e-${process.pid}:` };
  const configs = {};
  for (const name of NAMES) {
    const journal = join(dir, `journal-${name}`);
    configs[name] = writeIn(dir, `${name}.yaml`, gatewayConfig({
      ...shared, name, journal, shipInterval: name === 'gw-c' ? '1h' : '50ms',
    }));
    configs[`${name}-restarted`] = writeIn(dir, `${name}-restarted.yaml`, gatewayConfig({ ...shared, name, journal, shipInterval: '50ms' }));
    gateways.push({ name, ...(await startGateway(configs[name])), up: true });
  }
  const c = gateways[2];
  const load = runLoad();
  // Kill C once it has answered a fair share, however long that takes on this machine.
  const beforeKill = await pollUntil(() => load.answered.filter((a) => a.gateway === 'gw-c' && a.status === 200).length,
    (n) => n >= 30, { intervalMs: 10 });
  const shippedBeforeKill = await metricOf(c, 'sluice_usage_shipped_total');
  c.up = false;
  c.process.kill('SIGKILL');
  await new Promise((r) => (c.process.exitCode !== null || c.process.signalCode !== null ? r() : c.process.once('exit', r)));
  const answeredByFirstLife = load.answered.filter((a) => a.gateway === 'gw-c').map((a) => a.id);
  Object.assign(c, await startGateway(configs['gw-c-restarted']), { up: true });
  // Run on until the one quota turns every gateway away (or the load's own bound ends it); the
  // bound is for a hang only: the whole quota has to be spent first, however slow the machine.
  await pollUntil(() => NAMES.every((n) => load.answered.filter((a) => a.gateway === n && a.status === 403).length >= 5),
    Boolean, { intervalMs: 20, timeoutMs: 5 * HANG_BOUND_MS });
  await load.stop();
  // A graceful stop ships what is left; each gateway must exit cleanly.
  const exitCodes = [];
  for (const g of gateways) exitCodes.push(await stopProcess(g.process, HANG_BOUND_MS));
  const rows = await storeRows(postgres.url, 'request_id,route,status');
  outcome = { load, beforeKill, shippedBeforeKill, answeredByFirstLife, exitCodes, rows, served: await simUsage(sim) };
});

after(async () => {
  for (const g of gateways) if (g.process) await stopProcess(g.process);
  await sim?.stop();
  if (redis) await stopProcess(redis);
  postgres?.stop();
});

test('the kill landed mid-run, on records that were only in the journal', () => {
  const { beforeKill, shippedBeforeKill, answeredByFirstLife, exitCodes, load } = outcome;
  assert.ok(beforeKill >= 30, `C answered only ${beforeKill} before the kill`);
  assert.equal(shippedBeforeKill, 0, 'C shipped nothing before the kill (ship_interval: 1h)');
  assert.ok(answeredByFirstLife.length >= 30);
  assert.deepEqual(exitCodes, [0, 0, 0], 'every gateway drained and exited cleanly');
  assert.deepEqual(load.other, [], 'no answer other than 200 or the quota\'s 403');
  assert.equal(load.cut['gw-a'] + load.cut['gw-b'], 0, 'only the killed gateway cut requests');
});

test('one token quota across three gateways: overshoot at most one estimate per instance', () => {
  const { load, served } = outcome;
  const estimate = Math.max(...load.answered.filter((a) => a.status === 200).map((a) => a.reserved));
  assert.ok(estimate > MAX_TOKENS, `reservations are read from x-ratelimit-consumed-tokens (${estimate})`);
  const overshoot = Math.max(0, served.total.total_tokens - QUOTA);
  console.log(`# shared quota ${QUOTA}: served ${served.total.total_tokens} tokens in ${served.total.requests} requests; ` +
    `overshoot ${overshoot} (bound ${NAMES.length} x ${estimate}); ` +
    `refused ${load.answered.filter((a) => a.status === 403).length}; cut by the kill ${load.cut['gw-c']}`);
  assert.ok(overshoot <= NAMES.length * estimate,
    `served ${served.total.total_tokens} > quota ${QUOTA} + ${NAMES.length} x ${estimate}`);
  for (const name of NAMES) {
    assert.ok(load.answered.some((a) => a.gateway === name && a.status === 403), `${name} never refused: a budget of its own?`);
  }
});

test('every answered request has exactly one record in PostgreSQL, including those C wrote before the kill', () => {
  const { load, rows, answeredByFirstLife } = outcome;
  const byId = new Map();
  for (const row of rows) {
    assert.equal(row.requests, 1, `${row.request_id} has ${row.requests} records`);
    assert.ok(!byId.has(row.request_id), `${row.request_id} recorded twice`);
    byId.set(row.request_id, row);
  }
  const lost = load.answered.filter((a) => !byId.has(a.id));
  const lostFromFirstLife = answeredByFirstLife.filter((id) => !byId.has(id));
  console.log(`# records: ${rows.length} in PostgreSQL for ${load.answered.length} answered requests; ` +
    `lost ${lost.length} (of C's first life ${lostFromFirstLife.length} of ${answeredByFirstLife.length}); doubled 0`);
  assert.deepEqual(lostFromFirstLife, [], 'the restarted C shipped what its killed predecessor journaled');
  assert.deepEqual(lost.map((a) => `${a.gateway} ${a.id}`), [], 'answered requests without a record');
  for (const a of load.answered) {
    const row = byId.get(a.id);
    assert.equal(row.route, a.gateway, `${a.id}: recorded by ${row.route}, answered by ${a.gateway}`);
    assert.equal(row.status, String(a.status));
    assert.equal(row.total_tokens, a.tokens, `${a.id}: tokens in the record and in the answer`);
  }
});

test('usage reconciles: records, answers and the simulator agree per gateway', () => {
  const { load, rows, served } = outcome;
  for (const name of NAMES) {
    const mine = rows.filter((r) => r.route === name);
    const ok = mine.filter((r) => r.status === '200');
    const answered = load.answered.filter((a) => a.gateway === name);
    const answeredOk = answered.filter((a) => a.status === 200);
    const sum = (list, key) => list.reduce((s, x) => s + x[key], 0);
    const cut = load.cut[name];
    const sim = served.clients[name];
    if (cut === 0) {
      assert.equal(mine.length, answered.length, `${name}: records == answers`);
      assert.equal(ok.length, sim.requests, `${name}: 200 records == requests the simulator served`);
      assert.equal(sum(ok, 'total_tokens'), sim.total_tokens, `${name}: token sums, records and simulator`);
      assert.equal(sum(answeredOk, 'tokens'), sim.total_tokens, `${name}: token sums, answers and simulator`);
    } else {
      // A request the kill cut may or may not have reached the simulator, and may or may not have
      // been journaled before the kill: that, and only that, is the slack.
      assert.ok(mine.length >= answered.length && mine.length - answered.length <= cut,
        `${name}: ${mine.length} records for ${answered.length} answers and ${cut} cut`);
      assert.ok(sim.requests >= answeredOk.length && sim.requests - answeredOk.length <= cut,
        `${name}: simulator served ${sim.requests} for ${answeredOk.length} answered and ${cut} cut`);
    }
  }
});
