// The fault matrix, journal rows: the usage journal's disk fills up under load, and the journal
// directory is read-only. A full disk must not cost a usage record while the process lives and the
// store is reachable (the records the journal cannot take are kept in memory and shipped from
// there, counted in sluice_usage_unjournaled_records_total); a read-only journal directory is
// refused at start with the directory named. The disk is a small tmpfs mounted here (needs root,
// as CI runs; the test says so and skips otherwise).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { fetchWithTimeout, postChat, runSluice, startGateway, startSluice, tempDir, tempFile } from '../helpers.mjs';
import { storeRows } from '../../integration/usage_support.mjs';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'mounting a small tmpfs needs root (CI runs as root)';
let sim;
let mountPoint;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 1ms, tokens_per_second: 2000, natural_length: 12}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(journal, store) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends: [{name: sim, url: "${sim.url}", auth: {type: api-key, key: upstream-key}}]
pools: [{name: main, members: [{backend: sim}]}]
routes: [{name: all, pool: main}]
policies:
  usage: {journal: ${journal}, store: ${store}, ship_interval: 50ms}
`;
}

async function metric(gateway, name) {
  const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

async function send(gateway, count, tag) {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const res = await postChat(gateway.url, 'gpt-4o', { messages: [{ role: 'user', content: `${tag} ${i}` }], stream: i % 2 === 1 });
    await res.text();
    if (res.status === 200) ok += 1;
  }
  return ok;
}

async function recordCount(store) {
  try {
    const rows = await storeRows(store);
    assert.equal(new Set(rows.map((r) => r.request_id)).size, rows.length, 'no request id twice');
    return rows.reduce((sum, row) => sum + row.requests, 0);
  } catch (error) {
    if (error.code === 'ERR_ASSERTION') throw error;
    return 0;
  }
}

before(async () => {
  if (skip) return;
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  mountPoint = tempDir('sluice-journal-disk-');
});

after(async () => {
  await sim?.stop();
  if (mountPoint) {
    try { execFileSync('umount', [mountPoint], { stdio: 'ignore' }); } catch { /* not mounted */ }
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

test('journal disk full under load: every request answered, every record shipped from memory', { skip }, async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
  const journal = `${mountPoint}/journal`;
  const store = `${tempDir('sluice-journal-store-')}/usage.db`;
  const gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(journal, store)));
  try {
    assert.equal(await send(gateway, 20, 'before'), 20);
    // Fill the disk: dd stops at ENOSPC with a non-zero status, which is the point.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${mountPoint}/filler`, 'bs=64k'], { stdio: 'ignore' });
    } catch { /* disk full */ }
    const full = await send(gateway, 60, 'full');
    assert.equal(full, 60, 'requests are answered while the journal disk is full');
    const unjournaled = await metric(gateway, 'sluice_usage_unjournaled_records_total');
    // The last page the journal file already has still takes a few records; the rest are refused.
    assert.ok(unjournaled > 0 && unjournaled <= 60, `records refused by the full disk: ${unjournaled}`);
    assert.equal(await metric(gateway, 'sluice_usage_records_lost_total'), 0);
    rmSync(`${mountPoint}/filler`);
    assert.equal(await send(gateway, 20, 'after'), 20);
    assert.equal(await metric(gateway, 'sluice_usage_unjournaled_records_total'), unjournaled, 'journaled again once there is room');
    assert.equal(await gateway.stop(), 0);
    assert.equal(await recordCount(store), 100, 'one record per request: before, while full, after');
    console.log(`journal disk full: 100 requests answered, ${unjournaled} of the 60 sent while full kept in memory only, 100 records in the store, 0 lost`);
  } finally {
    await gateway.stop();
    execFileSync('umount', [mountPoint]);
  }
});

test('journal directory read-only: the gateway refuses to start and names the directory', { skip }, async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint]);
  try {
    const { code, stderr } = await runSluice(['gateway', '--config',
      tempFile('gateway.yaml', gatewayConfig(`${mountPoint}/journal`, `${tempDir()}/usage.db`))]);
    assert.notEqual(code, 0);
    assert.ok(stderr.includes(mountPoint), stderr);
    assert.match(stderr, /read-only/i, stderr);
    console.log(`journal read-only at start: exit ${code}: ${stderr.trim().split('\n').at(-1)}`);
  } finally {
    execFileSync('umount', [mountPoint]);
  }
});
