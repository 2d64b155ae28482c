// The fault matrix, shared-state rows: PostgreSQL (the usage store) down and back under load;
// Redis (the token-limit store) slow, then slower than its timeout; Redis flushed (data and
// scripts). For each: what the clients got, what the usage store holds, whether the limit held.
// (Redis down and restarted is in tests/e2e/token_limit_redis.test.mjs; kill -9 of a gateway
// with both stores in tests/e2e/shared_state.test.mjs.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, test } from 'node:test';

import {
  fetchWithTimeout, freePort, pollUntil, postChat, resetSimUsage, simUsage, startGateway, startRedis, startSluice,
  stopProcess, tempDir, tempFile,
} from '../helpers.mjs';
import { startPostgres, storeRows } from '../../integration/usage_support.mjs';

const LIMIT = 3000;
let sim;
let redis;
let redisPort;
let slowRedis;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
deployments:
  long: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 2000}
  quick: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 1ms, tokens_per_second: 2000, natural_length: 12}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

// A TCP relay to redis that holds every chunk `delayMs` in each direction.
function startLatencyRelay(targetPort) {
  const relay = { delayMs: 0, sockets: new Set() };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      relay.sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => { relay.sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    const pipe = (from, to) => from.on('data', (chunk) => {
      setTimeout(() => { if (!to.destroyed) to.write(chunk); }, relay.delayMs);
    });
    pipe(client, upstream);
    pipe(upstream, client);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    relay.port = server.address().port;
    relay.close = () => new Promise((done) => {
      for (const s of relay.sockets) s.destroy();
      server.close(() => done());
    });
    resolve(relay);
  }));
}

function backendAndRoutes() {
  return `
backends: [{name: sim, url: "${sim.url}", auth: {type: api-key, key: upstream-key}}]
pools: [{name: main, members: [{backend: sim}], breaker: {failures: 100000}, retry: {max_attempts: 1}}]
routes: [{name: all, pool: main}]`;
}

function limitConfig(port, prefix) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
${backendAndRoutes()}
policies:
  token_limit:
    limits:
      - {name: per-team, counter_key: 'header:x-team', tokens_per_minute: ${LIMIT}, default_completion_tokens: 100}
    store: redis
    redis: {url: "redis://127.0.0.1:${port}", timeout: 200ms, key_prefix: "${prefix}", on_failure: fail_closed, retry_interval: 200ms}
`;
}

const ask = (gateway, team, maxTokens = 150) =>
  postChat(gateway.url, 'long', { messages: [{ role: 'user', content: 'limit me' }], max_tokens: maxTokens }, { 'x-team': team });

// Sends `count` requests at once for `team`; resolves the statuses and the tokens the 200s used.
async function burst(gateway, team, count) {
  const responses = await Promise.all(Array.from({ length: count }, () => ask(gateway, team)));
  const bodies = await Promise.all(responses.map((r) => r.json()));
  const statuses = responses.map((r) => r.status);
  const used = bodies.reduce((sum, b, i) => sum + (statuses[i] === 200 ? b.usage.total_tokens : 0), 0);
  return { statuses, used, ok: statuses.filter((s) => s === 200).length, bodies };
}

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  slowRedis = await startLatencyRelay(redisPort);
});

after(async () => {
  await slowRedis?.close();
  if (redis) await stopProcess(redis);
  await sim?.stop();
});

test('PostgreSQL down and back under load: no request blocked or failed, every record arrives once', { timeout: 300000 }, async () => {
  const postgres = await startPostgres();
  const dir = tempDir('sluice-pg-fault-');
  const gateway = await startGateway(tempFile('gateway.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
${backendAndRoutes()}
policies:
  usage: {journal: ${dir}/journal, store: "${postgres.url}", ship_interval: 50ms}
`));
  const storeUp = async () => {
    const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
    return /^sluice_usage_store_up\S* 1$/m.test(text);
  };
  try {
    const WORKERS = 6;
    const PER_PHASE = 20;
    const failures = [];
    let answered = 0;
    const phase = async (tag) => {
      await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
        for (let i = 0; i < PER_PHASE; i++) {
          const res = await postChat(gateway.url, 'quick', { messages: [{ role: 'user', content: `${tag} ${w} ${i}` }], stream: i % 2 === 1 });
          const text = await res.text();
          if (res.status === 200) answered += 1;
          else failures.push(`${tag}: ${res.status} ${text}`);
        }
      }));
    };
    await phase('up');
    postgres.pause();
    await phase('down');
    // Noticed on the first insert that fails (the shipper does not probe an idle store).
    assert.equal(await pollUntil(async () => !(await storeUp())), true, 'the gateway reports the store down');
    postgres.resume();
    await phase('back');
    assert.deepEqual(failures, []);
    assert.equal(answered, 3 * WORKERS * PER_PHASE);
    const rows = await pollUntil(async () => {
      try { return await storeRows(postgres.url); } catch { return []; }
    }, (r) => r.length >= answered, { intervalMs: 200 });
    assert.equal(new Set(rows.map((r) => r.request_id)).size, rows.length, 'no request id twice');
    assert.equal(rows.length, answered, 'one record per request, the outage included');
    console.log(`PostgreSQL down for a third of ${answered} requests: 0 failed, ${rows.length} records after it came back`);
  } finally {
    await gateway.stop();
    postgres.stop();
  }
});

test('Redis slow (30 ms each way): the limit holds exactly; slower than its timeout: fail_closed 503s; then recovers', { timeout: 120000 }, async () => {
  const gateway = await startGateway(tempFile('gateway.yaml', limitConfig(slowRedis.port, `slow-${process.pid}:`)));
  try {
    slowRedis.delayMs = 30;
    await resetSimUsage(sim);
    const slow = await burst(gateway, 'slow', 40);
    assert.ok(slow.statuses.every((s) => s === 200 || s === 429), `statuses: ${slow.statuses}`);
    assert.ok(slow.ok > 0 && slow.ok < 40, `admitted ${slow.ok} of 40`);
    assert.ok(slow.used <= LIMIT, `${slow.used} tokens admitted under a ${LIMIT} limit`);
    const served = (await simUsage(sim)).deployments.long.total_tokens;
    assert.equal(served, slow.used, 'the backend served exactly what the clients were admitted');

    slowRedis.delayMs = 600;  // three times the 200 ms timeout
    const stalled = await burst(gateway, 'stalled', 5);
    assert.deepEqual(stalled.statuses, [503, 503, 503, 503, 503]);
    assert.match(JSON.stringify(stalled.bodies[0]), /redis|token limit/i);

    slowRedis.delayMs = 0;
    const back = await pollUntil(async () => {
      const res = await ask(gateway, 'recovered', 10);
      await res.text();
      return res.status;
    }, (s) => s === 200, { intervalMs: 200 });
    assert.equal(back, 200, 'admits again once Redis answers in time');
    console.log(`Redis +60 ms round trip: ${slow.ok}/40 admitted, ${slow.used} tokens under ${LIMIT}; +1.2 s: 5/5 refused 503 (fail_closed); recovered`);
  } finally {
    await gateway.stop();
  }
});

test('Redis flushed (FLUSHALL and SCRIPT FLUSH): the gateway keeps answering; the forgotten window admits again', { timeout: 120000 }, async () => {
  const gateway = await startGateway(tempFile('gateway.yaml', limitConfig(redisPort, `flush-${process.pid}:`)));
  try {
    const before = await burst(gateway, 'flush', 40);
    assert.ok(before.used <= LIMIT && before.ok < 40, `before: ${before.ok} admitted, ${before.used} tokens`);
    const refused = await burst(gateway, 'flush', 3);
    assert.deepEqual(refused.statuses, [429, 429, 429], 'the budget is spent');
    execFileSync('redis-cli', ['-p', String(redisPort), 'FLUSHALL']);
    execFileSync('redis-cli', ['-p', String(redisPort), 'SCRIPT', 'FLUSH']);
    const after = await burst(gateway, 'flush', 40);
    assert.ok(after.statuses.every((s) => s === 200 || s === 429), `after: ${after.statuses}`);
    assert.ok(after.ok > 0, 'the flushed window admits again (Redis forgot what was used)');
    assert.ok(after.used <= LIMIT, `${after.used} tokens admitted after the flush`);
    console.log(`Redis flushed: ${before.used} tokens admitted before, ${after.used} after (overshoot of the minute: ${before.used + after.used - LIMIT} tokens, at most one limit)`);
  } finally {
    await gateway.stop();
  }
});
