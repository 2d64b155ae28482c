// End-to-end: `sluice demo` runs the simulator, the gateway and a three-app load test as its own
// children, prints the chargeback and a reconciliation against the simulator, writes its reports,
// and leaves no process behind — after a normal run and after SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sluiceBin } from './helpers.mjs';

// Runs `sluice demo args...`; resolves with {code, stdout, stderr}. `onStdout` sees the output so
// far and may act on the child (send a signal).
function runDemo(args, { timeoutMs = 150000, onStdout } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(sluiceBin, ['demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice demo did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (onStdout) onStdout(stdout, child);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

// sluice processes whose command line names the demo's work directory (every child's config
// or test file lives there).
function processesUsing(dir) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(dir) && !line.includes(' ps '));
}

test('sluice demo --duration 15s: reports, reconciles with the simulator, cleans up', async () => {
  const out = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  try {
    // runDemo's bound (150 s) fails a demo that does not end; how long it takes is not asserted.
    const run = await runDemo(['--duration', '15s', '--out', out]);
    const text = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    assert.equal(run.code, 0, text);

    const reconciliation = run.stdout.match(/reconciliation: usage store (\d+) tokens (=|!=) simulator (\d+) tokens (\S+)/);
    assert.ok(reconciliation, text);
    assert.equal(reconciliation[2], '=', text);
    assert.equal(reconciliation[1], reconciliation[3]);
    assert.ok(Number(reconciliation[1]) > 0, 'some tokens were served');
    assert.equal(reconciliation[4], '\u2713');

    for (const file of ['load/report.html', 'load/results.json', 'usage.db']) {
      assert.ok(existsSync(join(out, file)), `${file} missing\n${text}`);
      assert.ok(statSync(join(out, file)).size > 0, `${file} empty`);
    }
    assert.match(run.stdout, /== load test summary/);
    const chargeback = run.stdout.split('== chargeback')[1]?.split('== failover')[0] ?? '';
    for (const app of ['chat-frontend', 'batch-jobs', 'analytics']) {
      assert.match(chargeback, new RegExp(`^${app}\\s+gpt-4o\\s+\\S+`, 'm'), `${app} not in the chargeback\n${text}`);
    }
    // The app over its share is throttled by the gateway (requests that reached no backend).
    const batchRefused = chargeback.match(/^batch-jobs\s+gpt-4o\s+- \(not sent\)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+\s+\S+\s+(\d+)/m);
    assert.ok(batchRefused && Number(batchRefused[2]) > 0, `batch-jobs was not throttled\n${chargeback}`);
    // The response cache is on for analytics only (it sends temperature 0; the others sample), and
    // its hits are the requests the reconciliation names as answered from the cache.
    const cache = run.stdout.split('== response cache')[1]?.split('== failover')[0] ?? '';
    for (const app of ['chat-frontend', 'batch-jobs']) {
      assert.match(cache, new RegExp(`^${app}\\s+gpt-4o\\s+\\d+\\s+0\\s+0\\.0%\\s+0$`, 'm'), `${app} hit the cache\n${text}`);
    }
    const analytics = cache.match(/^analytics\s+gpt-4o\s+(\d+)\s+(\d+)\s+\S+\s+(\d+)$/m);
    assert.ok(analytics, `analytics not in the cache section\n${text}`);
    const plus = run.stdout.match(/\(plus (\d+) requests answered from the response cache/);
    assert.equal(plus?.[1], analytics[2], text);
    assert.match(run.stdout, /== failover/);
    assert.match(run.stdout, /swedencentral-ptu/);
    assert.match(run.stdout, /metrics:\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);

    assert.deepEqual(processesUsing(out), [], 'a demo child is still running');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('sluice demo stops every child on SIGTERM', async () => {
  const out = mkdtempSync(join(tmpdir(), 'sluice-demo-term-'));
  try {
    let signalled = false;
    // The load would run for an hour: only SIGTERM can end the demo before runDemo's bound.
    const run = await runDemo(['--duration', '3600s', '--out', out], {
      timeoutMs: 150000,
      onStdout: (stdout, child) => {
        // Once the load is under way (all children up), stop the demo; the pause lets requests
        // be in flight when the signal comes.
        if (!signalled && /^load\s/m.test(stdout)) {
          signalled = true;
          setTimeout(() => child.kill('SIGTERM'), 3000);
        }
      },
    });
    assert.ok(signalled, `the demo never started its load\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.code, 130, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.deepEqual(processesUsing(out), [], 'a demo child is still running');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
