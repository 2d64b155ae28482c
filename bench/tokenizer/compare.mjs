// Runs sluice's tokenizer benchmark and npm tiktoken (WASM) on the same corpus, single-threaded,
// and prints MB/s (1 MB = 10^6 bytes), the ratio, and where sluice's time goes.
// Usage: node bench/tokenizer/compare.mjs SLUICE_TOKENIZER_BENCH_BINARY
// Both sides use wall-clock time and keep the best of several runs, which filters out most of the
// noise of a shared machine.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusChunks } from './corpus.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/e2e/package.json'));
const { get_encoding } = require('tiktoken');

const benchBinary = process.argv[2];
const kRuns = 5;
const kEncodings = ['cl100k_base', 'o200k_base'];

const corpus = corpusChunks().join('\n');
const bytes = Buffer.byteLength(corpus);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
const corpusFile = path.join(dir, 'corpus.txt');
fs.writeFileSync(corpusFile, corpus);

// sluice: best (highest) bytes_per_second of each benchmark over the repetitions.
const out = execFileSync(benchBinary, [corpusFile, '--benchmark_format=json',
                                       `--benchmark_repetitions=${kRuns}`,
                                       '--benchmark_min_time=0.5'], { maxBuffer: 1 << 26 });
fs.rmSync(dir, { recursive: true });
const best = {};
for (const b of JSON.parse(out).benchmarks) {
  if (b.run_type !== 'iteration') continue;
  const name = b.run_name.replace(/\/real_time$/, '');
  best[name] = Math.max(best[name] ?? 0, b.bytes_per_second / 1e6);
}

function tiktokenMBps(name) {
  const enc = get_encoding(name);
  enc.encode_ordinary(corpus);  // warm-up: WASM compilation, table build
  let bestMs = Infinity;
  for (let i = 0; i < kRuns; ++i) {
    const start = performance.now();
    enc.encode_ordinary(corpus);
    bestMs = Math.min(bestMs, performance.now() - start);
  }
  enc.free();
  return bytes / 1e3 / bestMs;
}

const fmt = (x) => x.toFixed(1);
console.log(`corpus: ${fmt(bytes / 1e6)} MB (licences, man pages in 25 languages, C headers, ` +
            'Python sources, X11 compose table), single thread, best of ' + kRuns);
const summary = [];
for (const name of kEncodings) {
  const split = best[`split/${name}`];
  const lookup = best[`lookup/${name}`];
  const count = best[`count/${name}`];
  const encode = best[`encode/${name}`];
  const tiktoken = tiktokenMBps(name);
  // Seconds per MB of each stage; merge is what the full count adds to split + lookup.
  const tSplit = 1 / split;
  const tLookup = 1 / lookup - 1 / split;
  const tMerge = 1 / count - 1 / lookup;
  const pct = (t) => `${Math.round((100 * t) / (1 / count))}%`;
  console.log(`\n${name}`);
  console.log(`  sluice encode (ids)   ${fmt(encode)} MB/s`);
  console.log(`  sluice count          ${fmt(count)} MB/s`);
  console.log(`  npm tiktoken encode   ${fmt(tiktoken)} MB/s`);
  console.log(`  time in sluice count: pre-split ${pct(tSplit)}, whole-piece lookup ${pct(tLookup)}, ` +
              `merge ${pct(tMerge)} (pre-split alone ${fmt(split)} MB/s)`);
  summary.push(`tokenizer: ${name} sluice ${fmt(encode)} MB/s, tiktoken ${fmt(tiktoken)} MB/s, ` +
               `ratio ${fmt(encode / tiktoken)}`);
}
console.log('');
for (const line of summary) console.log(line);
