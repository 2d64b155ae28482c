// Opens N concurrent streaming chat completions against `sluice sim` and reports how far the
// observed token timing drifts from the configured timing model (TTFT and inter-token latency,
// p50/p99). Node built-ins only. Bounded: every stream has a deadline and the run stops by itself.
//
//   node streams.mjs --url http://127.0.0.1:PORT --streams 2000 --ttft-ms 500 --itl-ms 100 --tokens 30
import http from 'node:http';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const url = new URL(args.url);
const streams = Number(args.streams ?? 2000);
const ttftModel = Number(args['ttft-ms'] ?? 500);
const itlModel = Number(args['itl-ms'] ?? 100);
const tokens = Number(args.tokens ?? 30);
const deadlineMs = Number(args['deadline-ms'] ?? 60000);
// Stream i starts at i * ramp / N, so the arrival burst does not hide the timing model behind
// the time it takes one thread to accept and parse N requests; all N are still open at once
// when a stream lasts longer than the ramp.
const rampMs = Number(args['ramp-ms'] ?? 1000);
const path = `/openai/deployments/${args.deployment ?? 'bench'}/chat/completions?api-version=2024-10-21`;
const body = JSON.stringify({ messages: [{ role: 'user', content: 'Tell me about rivers.' }], max_tokens: tokens, stream: true });
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

const ttfts = [];
const itls = [];
let ok = 0;
let failed = 0;
const errors = new Map();

function one() {
  return new Promise((resolve) => {
    // TTFT counts from the moment the whole request was handed to the socket (the model's clock
    // starts when the server has the request), not from when this client got round to opening it.
    let start = performance.now();
    let last = 0;
    let seen = 0;
    let buffer = '';
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (error || seen !== tokens) {
        failed++;
        const key = error ? String(error.code ?? error.message) : `got ${seen} tokens`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      } else {
        ok++;
      }
      resolve();
    };
    const req = http.request({
      host: url.hostname, port: url.port, path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'api-key': args.key ?? 'bench-key', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(new Error(`status ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (!event.includes('"delta":{"content":"') || event.includes('"delta":{"content":"",')) continue;
          const now = performance.now();
          if (seen === 0) ttfts.push(now - start);
          else itls.push(now - last);
          last = now;
          seen++;
        }
      });
      res.on('end', () => finish());
      res.on('error', finish);
    });
    req.on('finish', () => { start = performance.now(); });
    const timer = setTimeout(() => { req.destroy(new Error('deadline')); }, deadlineMs);
    req.on('error', finish);
    req.end(body);
  });
}

function pct(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const t0 = performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let open = 0;
let peak = 0;
await Promise.all(Array.from({ length: streams }, async (_, i) => {
  await sleep((i * rampMs) / streams);
  open++;
  peak = Math.max(peak, open);
  await one();
  open--;
}));
const wall = (performance.now() - t0) / 1000;
const f = (x) => x.toFixed(1);
const r = {
  ttft50: pct(ttfts, 50), ttft99: pct(ttfts, 99), itl50: pct(itls, 50), itl99: pct(itls, 99),
};
console.log(`streams: ${streams} started over ${rampMs} ms, ${peak} open at once, ${ok} complete, ${failed} failed, ${f(wall)} s wall`);
for (const [k, v] of errors) console.log(`  failure ${k}: ${v}`);
console.log(`ttft ms: model ${ttftModel}  p50 ${f(r.ttft50)}  p99 ${f(r.ttft99)}`);
console.log(`itl  ms: model ${itlModel}  p50 ${f(r.itl50)}  p99 ${f(r.itl99)}`);
console.log(`sim-streams: streams=${streams} peak_open=${peak} ok=${ok} ttft_p50=${f(r.ttft50)} ttft_p99=${f(r.ttft99)} ttft_model=${ttftModel} ` +
  `itl_p50=${f(r.itl50)} itl_p99=${f(r.itl99)} itl_model=${itlModel} ` +
  `drift_ttft_p50=${f(r.ttft50 - ttftModel)} drift_ttft_p99=${f(r.ttft99 - ttftModel)} ` +
  `drift_itl_p50=${f(r.itl50 - itlModel)} drift_itl_p99=${f(r.itl99 - itlModel)}`);
process.exit(failed === 0 ? 0 : 1);
