// The response cache shared through Redis (store: redis) by two gateway instances in front of one
// `sluice sim`: what one gateway kept, the other serves. The test starts redis-server itself, stops
// it mid-run (gateway A fails open: the backend answers; gateway B fails closed: 503) and starts
// it again, after which both use the cache again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  fetchWithTimeout, freePort, pollUntil, simGatewayYaml, postChat, resetSimUsage, simUsage, startGateway, startRedis, startSluice,
  stopProcess, tempFile,
} from './helpers.mjs';

let sim, redis, redisPort, gatewayA, gatewayB;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 8
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 30}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(onFailure) {
  return `${simGatewayYaml(sim.url)}routes:
  - {name: main, match: {deployments: [gpt-4o]}, pool: sim}
policies:
  cache:
    vary_by: none
    store: redis
    redis: {url: "redis://127.0.0.1:${redisPort}", timeout: 2s, key_prefix: "e2e-${process.pid}:", on_failure: ${onFailure}, retry_interval: 300ms}
`;
}

async function ask(gateway, content) {
  const res = await postChat(gateway.url, 'gpt-4o', { messages: [{ role: 'user', content }], temperature: 0 });
  const body = await res.json();
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), body };
}

async function metric(gateway, name) {
  const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

const simRequests = async () => (await simUsage(sim)).deployments['gpt-4o']?.requests ?? 0;

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  gatewayA = await startGateway(tempFile('a.yaml', gatewayConfig('fail_open')));
  gatewayB = await startGateway(tempFile('b.yaml', gatewayConfig('fail_closed')));
});

after(async () => {
  await gatewayA?.stop();
  await gatewayB?.stop();
  if (redis) await stopProcess(redis);
  await sim?.stop();
});

// A's answer is written to Redis in the background, after A answered: wait for the write.
async function keptBy(gateway, stores) {
  await pollUntil(() => metric(gateway, 'sluice_cache_stores_total'), (n) => n >= stores);
}

test('what one gateway kept, the other serves; the simulator sees one call', async () => {
  await resetSimUsage(sim);
  const first = await ask(gatewayA, 'Shared question');
  assert.equal(first.cache, 'miss');
  await keptBy(gatewayA, 1);
  const second = await ask(gatewayB, 'Shared question');
  assert.equal(second.cache, 'hit');
  assert.deepEqual(second.body, first.body);
  assert.equal(await simRequests(), 1);
});

test('Redis down: A fails open to the backend, B fails closed; both use the cache again after a restart', async () => {
  await stopProcess(redis, 0);
  redis = null;
  await resetSimUsage(sim);
  const open = await ask(gatewayA, 'During the outage');
  assert.equal(open.status, 200);
  assert.equal(open.cache, 'bypass');
  assert.equal(await simRequests(), 1);
  const closed = await ask(gatewayB, 'During the outage');
  assert.equal(closed.status, 503);
  assert.equal(closed.body.error.code, 'cache_unavailable');
  assert.equal(await simRequests(), 1, 'a fail-closed refusal never reaches the backend');
  assert.ok(await metric(gatewayA, 'sluice_cache_store_failures_total') >= 1);

  redis = await startRedis(redisPort);
  // Once the retry interval has passed both reach the fresh (empty) server again.
  await pollUntil(() => ask(gatewayB, 'Probe for B'), (r) => r.status === 200);
  const stores = await metric(gatewayA, 'sluice_cache_stores_total');
  const again = await pollUntil(() => ask(gatewayA, 'After the restart'), (r) => r.cache === 'miss');
  await keptBy(gatewayA, stores + 1);
  const shared = await ask(gatewayB, 'After the restart');
  assert.equal(shared.cache, 'hit');
  assert.deepEqual(shared.body, again.body);
});
