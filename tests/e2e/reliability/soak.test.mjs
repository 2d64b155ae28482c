// Soak: `sluice gateway` with the full policy set (API-key identity for three apps, a local token
// limit that never refuses, usage journal + SQLite store, metrics, prompt_log, the exact cache) in
// front of `sluice sim`, under closed-loop mixed load (streamed and plain, three apps, part of it
// at temperature 0 on a small set of prompts so the cache answers) for SOAK_SECONDS (default 120,
// the CI version; `make soak` runs 1800) or SOAK_MAX_REQUESTS, whichever comes first.
//
// The load is paced, not a flood: first SOAK_CAPACITY_SECONDS of closed-loop load (SOAK_CLIENTS
// clients, default 8) measure what this machine answers per second through the full policy set,
// then the soak proper runs at SOAK_LOAD_FRACTION (default 0.7) of that rate, the way a gateway
// runs in production with headroom. SOAK_RATE fixes the rate instead; SOAK_LOAD_FRACTION=0 keeps
// the closed loop for the whole run.
//
// Every sample interval it reads the gateway's RSS, threads and open file descriptors from /proc,
// and the journal's size, and prints the drift at the end. It asserts counts and outcomes only:
// no failed request, fds and threads back to the warm-up level (plus a small slack) once the load
// stops, RSS under a generous bound, and the usage store reconciled with the simulator.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, test } from 'node:test';

import {
  apiKeyIdentityYaml, fetchWithTimeout, pollUntil, postChat, removeTempFiles, simGatewayYaml, simUsage, simYaml, sleep, sluiceBin,
  startGateway, startSluice, tempDir, tempFile,
} from '../helpers.mjs';

const execFileAsync = promisify(execFile);

const envNumber = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = envNumber('SOAK_SECONDS', 120);
// The count bound: above what this machine answers in SOAK_SECONDS, so time ends the run here.
const MAX_REQUESTS = envNumber('SOAK_MAX_REQUESTS', 1000 * SECONDS);
const CLIENTS = envNumber('SOAK_CLIENTS', 8);
// Requests per second for all clients together (0: measured, see SOAK_LOAD_FRACTION).
const FIXED_RATE = envNumber('SOAK_RATE', 0);
// The share of the measured capacity the soak runs at (0: closed loop, each client sends when answered).
const LOAD_FRACTION = envNumber('SOAK_LOAD_FRACTION', 0.7);
// The capacity probe: long enough for a stable rate, short next to the run.
const CAPACITY_SECONDS = envNumber('SOAK_CAPACITY_SECONDS', Math.min(20, Math.max(5, Math.round(SECONDS / 10))));
const SAMPLE_SECONDS = envNumber('SOAK_SAMPLE_SECONDS', Math.max(2, Math.round(SECONDS / 40)));
// The baseline is the first sample once a tenth of the run is behind (pools and caches filled).
const WARMUP_SECONDS = Math.max(SAMPLE_SECONDS, SECONDS / 10);
// Once the load stops, fds and threads must come back to the warm-up level plus this much.
const FD_SLACK = 8;
const THREAD_SLACK = 2;
// RSS is only bounded, generously: its drift is printed, not judged.
const RSS_FACTOR = 4;
// Journal segments are small so that the run seals and deletes many: once everything is shipped,
// only the open segment (and the bookmark) may remain.
const SEGMENT_BYTES = 1 << 20;

const APPS = { 'app-a': 'soak-key-a', 'app-b': 'soak-key-b', 'app-c': 'soak-key-c' };
const APP_NAMES = Object.keys(APPS);
// The temperature-0 prompts repeat from this set (per app, since the cache varies by app).
const CACHED_PROMPTS = 40;

const SIM_CONFIG = simYaml({
  'gpt-4o': '{model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 1ms, tokens_per_second: 4000, natural_length: 24}',
}, { threads: 2, seed: 18 });

function gatewayConfig(simUrl, dir) {
  return `${simGatewayYaml(simUrl, { threads: 2 })}routes:
  - {name: main, match: {deployments: [gpt-4o]}, pool: sim}
policies:
${apiKeyIdentityYaml(APPS)}
  token_limit:
    limits:
      - {name: per-app, counter_key: [app_id], tokens_per_minute: 1000000000}
  cache: {ttl: 1h}
  usage: {journal: ${dir}/journal, segment_size: ${SEGMENT_BYTES}, store: "${dir}/usage.db", ship_interval: 50ms}
  metrics: {dimensions: [app, deployment, backend]}
  prompt_log: {file: ${dir}/prompts.jsonl, sample_rate: 0.05, rotate_size: 1MiB, keep: 2}
`;
}

let sim;
let gateway;

after(async () => {
  await gateway?.stop();
  await sim?.stop();
  removeTempFiles();
});

// Bytes of every file under `dir` (0 if it does not exist).
function directoryBytes(dir) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
    } catch {
      // A segment removed between the listing and the stat: it holds no bytes any more.
    }
  }
  return total;
}

// RSS (KiB), threads, open fds of `pid`, and the journal's bytes.
function sample(pid, journal) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))[1]);
  return {
    rssKiB: field('VmRSS'),
    threads: field('Threads'),
    fds: readdirSync(`/proc/${pid}/fd`).length,
    journalBytes: directoryBytes(journal),
  };
}

// Reads a whole SSE body; true when it ended with a finish_reason and [DONE].
async function streamComplete(response) {
  const text = await response.text();
  const data = text.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
  return data.at(-1) === '[DONE]'
    && data.some((d) => d !== '[DONE]' && JSON.parse(d).choices?.[0]?.finish_reason);
}

// One request of the mix, chosen by its sequence number `n`: the app turns round, every other one
// is streamed, and half are temperature 0 on a repeated prompt (cacheable) while the rest sample
// on a prompt of their own (the cache passes them by).
function requestFor(n) {
  const app = APP_NAMES[n % APP_NAMES.length];
  const stream = Math.floor(n / 3) % 2 === 1;
  const cacheable = Math.floor(n / 6) % 2 === 0;
  const content = cacheable
    ? `Cached question ${Math.floor(n / 12) % CACHED_PROMPTS}: how do rivers carve canyons?`
    : `Fresh question ${n}: how do rivers carve canyons?`;
  return { app, stream, body: { messages: [{ role: 'user', content }], temperature: cacheable ? 0 : 0.7, stream } };
}

// Store rows grouped by `by` (the `sluice usage report` JSON rows).
async function report(store, by) {
  const { stdout } = await execFileAsync(sluiceBin,
    ['usage', 'report', '--store', store, '--by', by, '--since', '24h', '--format', 'json'], { maxBuffer: 1 << 30 });
  return JSON.parse(stdout).rows;
}

async function metricSum(name) {
  const text = await (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

function printDrift(samples, warm, last, idle) {
  const rows = [
    ['RSS', 'rssKiB', mib],
    ['threads', 'threads', String],
    ['open fds', 'fds', String],
    ['journal size', 'journalBytes', kib],
  ];
  const lines = ['metric        | warm-up    | last (load) | max (load) | after load | drift (last - warm-up)'];
  for (const [label, key, show] of rows) {
    const max = Math.max(...samples.map((s) => s[key]));
    const drift = last[key] - warm[key];
    lines.push(`${label.padEnd(13)} | ${show(warm[key]).padEnd(10)} | ${show(last[key]).padEnd(11)} | `
      + `${show(max).padEnd(10)} | ${show(idle[key]).padEnd(10)} | ${drift >= 0 ? '+' : ''}${show(drift)}`);
  }
  console.log(lines.join('\n'));
}

test(`soak: ${SECONDS} s (at most ${MAX_REQUESTS} requests) of mixed load through the full policy set`,
  { timeout: (SECONDS + 600) * 1000 }, async () => {
    const dir = tempDir('sluice-soak-');
    const journal = join(dir, 'journal');
    const store = join(dir, 'usage.db');
    sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
    gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(sim.url, dir)));
    const pid = gateway.process.pid;

    let next = 0;
    let answered = 0;
    let hits = 0;
    let streamed = 0;
    const failures = [];
    // One phase of load: until `deadline`, closed loop (rate 0) or paced to `rate` per second from
    // `phaseStart`, the sequence numbers going on from the previous phase.
    let phase = { deadline: 0, rate: 0, phaseStart: 0, firstN: 0 };
    const client = async () => {
      while (Date.now() < phase.deadline && next < MAX_REQUESTS) {
        const n = next++;
        const { rate, phaseStart, firstN } = phase;
        const wait = rate > 0 ? phaseStart + ((n - firstN) * 1000) / rate - Date.now() : 0;
        if (wait > 0) await sleep(wait);
        const { app, stream, body } = requestFor(n);
        try {
          const res = await postChat(gateway.url, 'gpt-4o', body, { 'x-app-key': APPS[app] });
          if (res.status !== 200) {
            failures.push(`${res.status}: ${(await res.text()).slice(0, 300)}`);
            continue;
          }
          const complete = stream ? await streamComplete(res) : Boolean((await res.json()).choices?.[0]?.finish_reason);
          if (!complete) {
            failures.push(`${stream ? 'stream' : 'body'} not complete`);
            continue;
          }
          answered += 1;
          if (stream) streamed += 1;
          if (res.headers.get('x-sluice-cache') === 'hit') hits += 1;
        } catch (error) {
          failures.push(`request failed: ${error.message}`);
        }
      }
    };

    // Capacity: closed loop for CAPACITY_SECONDS; its requests count in the reconciliation too.
    let capacity = 0;
    let rate = FIXED_RATE;
    if (!FIXED_RATE && LOAD_FRACTION > 0) {
      const probeStart = Date.now();
      phase = { deadline: probeStart + CAPACITY_SECONDS * 1000, rate: 0, phaseStart: probeStart, firstN: 0 };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      capacity = answered / ((Date.now() - probeStart) / 1000);
      rate = Math.max(1, Math.round(capacity * LOAD_FRACTION));
      console.log(`capacity through the full policy set: ${capacity.toFixed(0)} answers/s with ${CLIENTS} clients `
        + `(closed loop, ${CAPACITY_SECONDS} s); the soak runs at ${rate}/s (${LOAD_FRACTION * 100} %)`);
    }
    const answeredBeforeSoak = answered;
    const startedAt = Date.now();
    phase = { deadline: startedAt + SECONDS * 1000, rate, phaseStart: startedAt, firstN: next };

    const samples = [];
    let warm = null;
    let loadDone = false;
    const sampler = (async () => {
      while (!loadDone) {
        await sleep(SAMPLE_SECONDS * 1000);
        if (loadDone) break;
        const s = { ...sample(pid, journal), second: Math.round((Date.now() - startedAt) / 1000), answered };
        samples.push(s);
        if (!warm && s.second >= WARMUP_SECONDS) warm = s;
        console.log(`t=${s.second}s answered=${answered} rss=${mib(s.rssKiB)} threads=${s.threads} fds=${s.fds} `
          + `journal=${kib(s.journalBytes)}`);
      }
    })();

    await Promise.all(Array.from({ length: CLIENTS }, client));
    loadDone = true;
    await sampler;
    const elapsed = (Date.now() - startedAt) / 1000;

    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failed requests`);
    assert.ok(warm, `a warm-up sample was taken (${samples.length} samples)`);
    const last = samples.at(-1);

    // Load stopped: the connections and threads the load needed are given back.
    const idle = await pollUntil(() => sample(pid, journal),
      (s) => s.fds <= warm.fds + FD_SLACK && s.threads <= warm.threads + THREAD_SLACK, { intervalMs: 200 });

    // Usage: one record per answered request, hits as cache=exact, the rest equal to the simulator.
    const byCache = await pollUntil(() => report(store, 'cache'),
      (rows) => rows.reduce((sum, row) => sum + row.requests, 0) >= answered, { intervalMs: 500 });
    const recorded = byCache.reduce((sum, row) => sum + row.requests, 0);
    const exact = byCache.find((row) => row.cache === 'exact') ?? { requests: 0 };
    const backend = byCache.filter((row) => row.cache !== 'exact')
      .reduce((sum, row) => ({
        requests: sum.requests + row.requests,
        prompt_tokens: sum.prompt_tokens + row.prompt_tokens,
        completion_tokens: sum.completion_tokens + row.completion_tokens,
      }), { requests: 0, prompt_tokens: 0, completion_tokens: 0 });
    const perRequest = await report(store, 'request_id,status');
    // Everything is shipped: the sealed segments are gone.
    const journalAfter = await pollUntil(() => directoryBytes(journal), (bytes) => bytes <= 2 * SEGMENT_BYTES,
      { intervalMs: 200 });
    idle.journalBytes = journalAfter;
    const simTotal = (await simUsage(sim)).total;
    const metricHits = await metricSum('sluice_cache_hits_total');

    const soakRate = ((answered - answeredBeforeSoak) / elapsed).toFixed(0);
    console.log(`soak ${elapsed.toFixed(0)} s, ${CLIENTS} clients${rate ? ` paced at ${rate}/s` : ' (closed loop)'}: `
      + `${answered - answeredBeforeSoak} answered in the soak (${soakRate}/s), ${answered} with the capacity probe (${streamed} streamed, `
      + `${hits} cache hits), ${failures.length} failed; store ${recorded} records (${exact.requests} cache=exact); `
      + `sim ${simTotal.requests} calls, ${simTotal.prompt_tokens} + ${simTotal.completion_tokens} tokens; `
      + `store (not cached) ${backend.prompt_tokens} + ${backend.completion_tokens} tokens`);
    printDrift(samples, warm, last, idle);

    assert.ok(idle.fds <= warm.fds + FD_SLACK, `fds back to warm-up ${warm.fds} + ${FD_SLACK}: ${idle.fds}`);
    assert.ok(idle.threads <= warm.threads + THREAD_SLACK, `threads back to warm-up ${warm.threads} + ${THREAD_SLACK}: ${idle.threads}`);
    assert.ok(last.rssKiB < RSS_FACTOR * warm.rssKiB, `RSS ${mib(last.rssKiB)} under ${RSS_FACTOR} x warm-up ${mib(warm.rssKiB)}`);

    assert.ok(journalAfter <= 2 * SEGMENT_BYTES, `journal ${kib(journalAfter)} once shipped: sealed segments deleted`);
    assert.ok(hits > 0, 'the cache answered part of the load');
    assert.equal(recorded, answered, 'one usage record per answered request');
    assert.equal(perRequest.length, answered, 'no request id twice in the store');
    assert.ok(perRequest.every((row) => row.status === '200' && row.requests === 1));
    assert.equal(exact.requests, hits, 'every hit recorded as cache=exact');
    assert.equal(metricHits, hits, 'sluice_cache_hits_total counts the hits');
    assert.equal(simTotal.requests, answered - hits, 'the simulator saw every request but the hits');
    assert.equal(backend.requests, simTotal.requests);
    assert.equal(backend.prompt_tokens, simTotal.prompt_tokens, 'prompt tokens reconcile with the simulator');
    assert.equal(backend.completion_tokens, simTotal.completion_tokens, 'completion tokens reconcile with the simulator');
    assert.equal(simTotal.errors ?? 0, 0);
  });
