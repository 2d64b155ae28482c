// The HTML report of a real run (with server-side metrics scraped from a Prometheus endpoint),
// opened in headless Chromium: its charts render and the page logs nothing to the console.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CHROMIUM, runChromium, runSluice, startSluice, tempDir, writeIn } from './helpers.mjs';

let sim;
let metrics;
let dir;
let scrapes = 0;

before(async () => {
  dir = tempDir('sluice-load-report-');
  const simConfig = writeIn(dir, 'sim.yaml', `
listen: {address: 127.0.0.1, port: 0}
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 100000000, time_to_first_token: 50ms, tokens_per_second: 400}
auth:
  mode: keys
  api_keys: [{name: report, key: report-key}]
`);
  sim = await startSluice(['sim', '--config', simConfig]);
  // A stand-in Prometheus endpoint: a counter and a gauge that move with each scrape.
  metrics = http.createServer((req, res) => {
    scrapes += 1;
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE gw_requests_total counter\ngw_requests_total{backend="sim"} ${scrapes * 7}\n` +
      `# TYPE gw_inflight gauge\ngw_inflight ${scrapes % 5}\nother_metric 1\n`);
  });
  await new Promise((r) => metrics.listen(0, '127.0.0.1', r));
});

after(async () => {
  if (sim) await sim.stop();
  if (metrics) metrics.close();
});

test('report.html renders its charts in headless Chromium with no console errors', { skip: !existsSync(CHROMIUM) && 'chromium not installed' }, async () => {
  const test = writeIn(dir, 'report.yaml', `testId: report
displayName: Report rendering check
failureCriteria: ["percentage(error) > 1", "p95(ttft_ms) > 60000"]
target: {endpoint: "${sim.url}", deployment: gpt-4o}
auth: {type: apiKey, key: report-key}
syntheticPrompt: {tokens: 64, count: 8}
request: {max_tokens: 40, stream: true, stream_options: {include_usage: true}}
serverMetrics:
  - name: gateway
    url: http://127.0.0.1:${metrics.address().port}/metrics
    interval: 250ms
    metrics: ["gw_*"]
load:
  arrivalRate: 15
  arrival: poisson
  maxConcurrency: 20
  duration: 4s
`);
  const out = join(dir, 'out');
  const run = await runSluice(['load', 'run', test, '--out', out, '--quiet']);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const series = res.server_metrics.map((s) => s.metric).sort();
  assert.deepEqual(series, ['gw_inflight', 'gw_requests_total{backend="sim"}']);
  // Scraped during the run at its interval (250 ms), never more often; how many times depends
  // only on how long the run took.
  const points = res.server_metrics[0].points.length;
  assert.ok(points >= 2, `scraped ${points} times`);
  assert.ok(points <= (res.ended_at_ms - res.started_at_ms) / 250 + 2, `scraped ${points} times in ${res.ended_at_ms - res.started_at_ms} ms`);
  assert.ok(points <= scrapes, `${points} points from ${scrapes} scrapes`);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(!/(src|href)=["']?https?:/.test(html), 'no network resources');
  const dom = runChromium(['--virtual-time-budget=5000', '--dump-dom', `file://${join(out, 'report.html')}`]);
  assert.equal(dom.status, 0, dom.stderr);
  const rendered = dom.stdout.match(/id="charts-rendered"[^>]*>(\d+)</);
  assert.ok(rendered, 'the page script ran to the end');
  // 5 client-side charts and one for the scraped server metrics.
  assert.equal(Number(rendered[1]), 6);
  const consoleLines = dom.stderr.split('\n').filter((l) => /CONSOLE|Uncaught/.test(l));
  assert.deepEqual(consoleLines, []);
  assert.match(dom.stdout, /Report rendering check/);
  assert.match(dom.stdout, /p95\(ttft_ms\) &gt; 60000/);

  const png = join(out, 'report.png');
  const shot = runChromium(['--window-size=1280,1500', '--hide-scrollbars', '--virtual-time-budget=5000', `--screenshot=${png}`, `file://${join(out, 'report.html')}`]);
  assert.equal(shot.status, 0, shot.stderr);
  assert.ok(statSync(png).size > 20000, 'a screenshot with content');
  if (process.env.SLUICE_REPORT_SCREENSHOT) {
    writeFileSync(process.env.SLUICE_REPORT_SCREENSHOT, readFileSync(png));
  }
});
