// End-to-end: `sluice load` against the real `sluice sim` on loopback. Counts are checked against
// the simulator's own accounting (/sim/usage), timings against its configured timing model.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  pollUntil, resetSimUsage, runSluice, setSimFault, simUsage as usageOf, startSluice, tempDir, writeIn,
} from './helpers.mjs';

const TENANT = '5b1c0000-0000-4000-8000-00000000load';
const CLIENT_ID = 'cccccccc-1111-4111-8111-00000000load';
const CLIENT_SECRET = 'load-secret';

const SIM = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
seed: 11
deployments:
  chat:
    model: gpt-4o
    tokens_per_minute: 100000000
    time_to_first_token: 300ms
    tokens_per_second: 50
    jitter: 0
    natural_length: 20
  fast:
    model: gpt-4o
    tokens_per_minute: 100000000
    time_to_first_token: 20ms
    tokens_per_second: 2000
    jitter: 0
    natural_length: 8
auth:
  mode: both
  api_keys:
    - {name: load-key, key: load-api-key}
  tenant_id: ${TENANT}
  clients:
    - client_id: ${CLIENT_ID}
      client_secret: ${CLIENT_SECRET}
      display_name: load-app
      roles: [Inference.User]
`;

const PROMPTS = [
  'alpha one',
  '"beta, two"',
  'gamma three',
  '"delta ""four"""',
  'epsilon five',
  'zeta six',
  'eta seven',
  'theta eight',
];

let sim;
let dir;

const write = (name, text) => writeIn(dir, name, text);
// Runs `sluice load ...`; resolves {code, stdout, stderr}.
const load = (args, env) => runSluice(['load', ...args], { env });
const results = (out) => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
const simUsage = () => usageOf(sim);
const resetUsage = () => resetSimUsage(sim);

function entraTest({ id, deployment = 'chat', vus = 4, loops = 3, extra = '', load: loadSection, criteria = [] }) {
  return `version: v0.1
testId: ${id}
splitAllCSVs: true
failureCriteria:
${criteria.map((c) => `  - "${c}"`).join('\n') || '  []'}
env:
  - {name: SIM_URL, value: ${sim.url}}
secrets:
  - {name: CLIENT_SECRET, value: https://vault.vault.azure.net/secrets/s}
target: {endpoint: "\${SIM_URL}", deployment: ${deployment}, apiVersion: 2024-10-21}
auth:
  type: entra
  tenantId: ${TENANT}
  clientId: ${CLIENT_ID}
  clientSecret: \${CLIENT_SECRET}
  scope: https://cognitiveservices.azure.com/.default
  authority: "\${SIM_URL}"
request:
  messages:
    - {role: user, content: "\${prompt}"}
  max_tokens: 50
  stream: true
  stream_options: {include_usage: true}
dataset: {path: prompts.csv, variables: [prompt]}
${extra}
load:
${loadSection ?? `  virtualUsers: ${vus}\n  rampUp: 500ms\n  loops: ${loops}`}
`;
}

before(async () => {
  dir = tempDir('sluice-load-e2e-');
  write('sim.yaml', SIM);
  write('prompts.csv', PROMPTS.join('\n') + '\n');
  sim = await startSluice(['sim', '--config', join(dir, 'sim.yaml')]);
});

after(async () => {
  if (sim) await sim.stop();
});

const SECRET_ENV = { CLIENT_SECRET };

describe('sluice load against sluice sim', () => {
  test('CSV data set + Entra auth: counts match the simulator, tokens fetched once per VU', async () => {
    await resetUsage();
    const test = write('entra.yaml', entraTest({ id: 'entra', vus: 4, loops: 3 }));
    const out = join(dir, 'out-entra');
    const r = await load(['run', test, '--out', out, '--quiet'], SECRET_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const res = results(out);
    assert.equal(res.labels_summary.chat.requests, 12);
    assert.equal(res.labels_summary.chat.errors, 0);
    assert.equal(res.labels_summary['entra token'].requests, 4);
    const usage = await simUsage();
    const client = usage.clients[CLIENT_ID];
    assert.equal(client.requests, 12);
    assert.equal(res.labels_summary.chat.prompt_tokens, client.prompt_tokens);
    assert.equal(res.labels_summary.chat.completion_tokens, client.completion_tokens);
    const jtl = readFileSync(join(out, 'results.jtl'), 'utf8').trim().split('\n');
    assert.equal(jtl[0], 'timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect');
    assert.equal(jtl.length, 1 + 16);
    // The secret never appears in any output.
    for (const f of ['results.json', 'results.jtl', 'report.html']) {
      assert.ok(!readFileSync(join(out, f), 'utf8').includes(CLIENT_SECRET), f);
    }
    assert.ok(!r.stdout.includes(CLIENT_SECRET) && !r.stderr.includes(CLIENT_SECRET));
  });

  // Only what the simulator guarantees (it never sends a token early) is asserted, so a busy
  // machine cannot fail this; how close the figures come to the model is bench/load/timing.sh.
  test('TTFT and inter-token latency follow the simulator timing model', async () => {
    // chat: 300 ms to the first token, 50 tokens/s (20 ms apart), no jitter, 20 tokens.
    const test = write('timing.yaml', entraTest({ id: 'timing', vus: 2, loops: 3 }));
    const out = join(dir, 'out-timing');
    const r = await load(['run', test, '--out', out, '--quiet'], SECRET_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const chat = results(out).labels_summary.chat;
    assert.equal(chat.requests, 6);
    assert.equal(chat.completion_tokens, 6 * 20);
    assert.ok(chat.ttft_ms.min >= 300, `ttft min ${chat.ttft_ms.min}`);
    // The last of 20 tokens is due 300 ms + 19 x 20 ms = 680 ms in; TTFT plus the 19 gaps after it
    // reach it, so on average too.
    assert.ok(chat.response_time_ms.min >= 680, `e2e min ${chat.response_time_ms.min}`);
    const lastToken = chat.ttft_ms.avg + 19 * chat.itl_ms.avg;
    assert.ok(lastToken >= 680 - 0.01, `ttft avg ${chat.ttft_ms.avg} + 19 x itl avg ${chat.itl_ms.avg}`);
  });

  test('arrival rate keeps its rate and shows a server stall (coordinated omission corrected)', async () => {
    const test = write('open.yaml', entraTest({
      id: 'open', deployment: 'fast',
      load: '  arrivalRate: 20\n  arrival: constant\n  maxConcurrency: 4\n  duration: 6s',
    }));
    const out = join(dir, 'out-open');
    // The server stalls every request for 1.5 s from the start until the first stalled one is
    // answered: by then all 4 VUs are stalled (arrivals are 50 ms apart), whatever the machine's
    // speed. Events, not sleeps, place the stall.
    await resetUsage();
    await setSimFault(sim, { deployment: 'fast', latency_spike_ms: 1500, spike_rate: 1 });
    const run = load(['run', test, '--out', out, '--jsonl'], SECRET_ENV);
    try {
      const served = await pollUntil(async () => (await simUsage()).deployments.fast?.requests ?? 0, (n) => n > 0);
      assert.ok(served > 0, 'a stalled request was answered');
    } finally {
      await setSimFault(sim, null);
    }
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    const res = results(out);
    const chat = res.labels_summary.chat;
    // 20/s for 6 s = 120 iterations: each either ran or is counted as dropped.
    assert.equal(chat.requests + res.dropped_iterations, 120);
    // The first 4 requests stall for 1.5 s, and the arrivals due meanwhile wait for a VU: the one
    // due at k x 50 ms (k = 4..19) starts at 1.5 s at the earliest, over 500 ms late. Counted from
    // the intended start they are slow too; a tester that timed from the actual send would report
    // only the stalled requests as slow.
    assert.ok(chat.response_time_ms.max > 1400, `max ${chat.response_time_ms.max}`);
    const slow = readFileSync(join(out, 'results.jtl'), 'utf8').trim().split('\n').slice(1)
      .filter((l) => l.split(',')[2] === 'chat' && Number(l.split(',')[1]) > 500).length;
    assert.ok(slow >= 15, `samples over 500 ms: ${slow}`);
    // The stall shows in the per-second timeline; progress lines come at most once a second.
    const worst = Math.max(...res.timeline.map((s) => s.e2e_us.max ?? 0));
    assert.ok(worst > 1_500_000);
    const progress = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'progress');
    assert.ok(progress.length >= 1, 'progress lines');
    progress.forEach((p, i) => assert.ok(p.elapsed_s >= i + 1, `progress line ${i + 1} at ${p.elapsed_s} s`));
  });

  test('failure criteria decide the exit code; bad files are refused before the run', async () => {
    const passing = write('pass.yaml', entraTest({ id: 'pass', vus: 1, loops: 2, deployment: 'fast', criteria: ['percentage(error) > 5', 'p95(ttft_ms) > 60000'] }));
    let r = await load(['run', passing, '--out', join(dir, 'out-pass'), '--quiet'], SECRET_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const failing = write('fail.yaml', entraTest({ id: 'fail', vus: 1, loops: 2, deployment: 'fast', criteria: ['chat: avg(response_time_ms) > 1'] }));
    r = await load(['run', failing, '--out', join(dir, 'out-fail'), '--quiet'], SECRET_ENV);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.equal(results(join(dir, 'out-fail')).criteria[0].result, 'failed');

    const bad = write('bad.yaml', entraTest({ id: 'bad', criteria: ['p95(latency) >> 3'] }));
    r = await load(['run', bad, '--out', join(dir, 'out-bad')], SECRET_ENV);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:5:\d+: failureCriteria\[0\]: criterion "p95\(latency\) >> 3": threshold "> 3" is not a number/);
    assert.ok(!existsSync(join(dir, 'out-bad', 'results.json')));

    const unknown = write('unknown.yaml', entraTest({ id: 'unknown' }).replace('load:\n', 'load:\n  virtualUser: 3\n'));
    r = await load(['run', unknown, '--out', join(dir, 'out-unknown')], SECRET_ENV);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown\.yaml:\d+:\d+: load: unknown key 'virtualUser'/);

    write('broken.csv', 'fine\n"never closed\n');
    const broken = write('broken.yaml', entraTest({ id: 'broken' }).replace('path: prompts.csv', 'path: broken.csv'));
    r = await load(['run', broken, '--out', join(dir, 'out-broken')], SECRET_ENV);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broken\.yaml:\d+:\d+: dataset\.path: .*broken\.csv:2: unterminated quoted field/);

    r = await load(['run', passing, '--out', join(dir, 'out-nosecret')], { CLIENT_SECRET: '' });
    // An empty environment variable still counts as set; unset it for the refusal.
    const nosecret = await load(['run', passing, '--out', join(dir, 'out-nosecret2')], { CLIENT_SECRET: undefined });
    assert.equal(nosecret.code, 2);
    assert.match(nosecret.stderr, /secret CLIENT_SECRET refers to Key Vault .*--secrets-file/);
  });

  test('autoStop ends a failing run early with exit code 1', async () => {
    // A deployment the simulator does not have: every chat request is a 404. The run would last
    // 10 minutes, longer than load() waits: only autoStop ends it in time.
    const test = write('autostop.yaml', entraTest({
      id: 'autostop', deployment: 'missing',
      extra: 'autoStop: {errorPercentage: 50, timeWindow: 2}',
      load: '  virtualUsers: 2\n  duration: 600s',
    }));
    const r = await load(['run', test, '--out', join(dir, 'out-autostop'), '--quiet'], SECRET_ENV);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const res = results(join(dir, 'out-autostop'));
    assert.equal(res.stop.auto_stopped, true);
    assert.match(res.stop.reason, /autoStop/);
  });

  test('two engines merged equal one engine', async () => {
    const test = write('engines.yaml', entraTest({ id: 'engines', deployment: 'fast', vus: 4, loops: 3 }));
    const one = join(dir, 'out-one');
    let r = await load(['run', test, '--out', one, '--quiet'], SECRET_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // engineInstances: 2 local processes, merged by the coordinator.
    const two = join(dir, 'out-two');
    r = await load(['run', test, '--engine-instances', '2', '--out', two, '--quiet'], SECRET_ENV);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // And by hand: --engine-index/--engine-count, then `sluice load merge`.
    const e0 = join(dir, 'out-e0');
    const e1 = join(dir, 'out-e1');
    const [a, b] = await Promise.all([
      load(['run', test, '--engine-index', '0', '--engine-count', '2', '--out', e0, '--quiet'], SECRET_ENV),
      load(['run', test, '--engine-index', '1', '--engine-count', '2', '--out', e1, '--quiet'], SECRET_ENV),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const merged = join(dir, 'out-merged');
    r = await load(['merge', e0, e1, '--out', merged, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const single = results(one);
    for (const res of [results(two), results(merged)]) {
      assert.equal(res.engines_merged, 2);
      for (const key of ['requests', 'errors', 'prompt_tokens', 'completion_tokens']) {
        assert.equal(res.summary[key], single.summary[key], key);
        assert.equal(res.labels_summary.chat[key], single.labels_summary.chat[key], `chat ${key}`);
      }
      assert.equal(res.labels_summary['entra token'].requests, 4);
      // Exact merge: the merged histogram holds every engine's samples.
      assert.equal(res.total.histograms.e2e_us.count, res.summary.requests);
    }
    const e0r = results(e0);
    const e1r = results(e1);
    assert.equal(e0r.summary.requests + e1r.summary.requests, results(merged).summary.requests);
    assert.equal(readFileSync(join(two, 'results.jtl'), 'utf8').trim().split('\n').length, 1 + 16);

    r = await load(['compare', one, two]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /requests\s+16\s+16\s+\+0\.0%/);
  });
});
