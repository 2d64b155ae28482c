// Runs sluice's tokenizer benchmark and npm tiktoken (WASM) on the same corpus, single-threaded,
// and prints MB/s (1 MB = 10^6 bytes), the ratio, and where sluice's time goes.
// Usage: node bench/tokenizer/compare.mjs SLUICE_TOKENIZER_BENCH_BINARY SLUICE_BINARY
// Both sides use wall-clock time and keep the best of several runs, which filters out most of the
// noise of a shared machine. Three parts:
//   - in process, single thread: MB/s of each tokenizer on the same 10 MB corpus;
//   - linear time: sluice's 4 MiB / 1 MiB time ratio on adversarial text (4.0 is linear);
//   - end to end: `sluice tokenize --count FILE` against a node process that counts the same file
//     with npm tiktoken, process start and file reading included.
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
const sluiceBinary = process.argv[3];
const kRuns = 5;
const kEncodings = ['cl100k_base', 'o200k_base'];
const kCorpusBytes = 10_000_000;
const kLinearKinds = ['letter', 'spaces', 'digits', 'cjk', 'random'];
const kLinearAim = 4.5;

// 10 MB of distinct text from the Debian corpus (no part repeated, so that no cache of sluice's
// or tiktoken's sees the same text twice), cut at a line end.
let corpus = corpusChunks(512 * 1024, 3.5).join('\n');
if (Buffer.byteLength(corpus) < kCorpusBytes) {
  console.error(`corpus: only ${Buffer.byteLength(corpus)} bytes of text found on this machine`);
}
corpus = Buffer.from(corpus).subarray(0, kCorpusBytes).toString();
corpus = corpus.slice(0, corpus.lastIndexOf('\n') + 1);
const bytes = Buffer.byteLength(corpus);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
const corpusFile = path.join(dir, 'corpus.txt');
fs.writeFileSync(corpusFile, corpus);

// sluice: best (highest) bytes_per_second of each benchmark over the repetitions.
const out = execFileSync(benchBinary, [corpusFile, '--benchmark_format=json',
                                       `--benchmark_repetitions=${kRuns}`,
                                       '--benchmark_min_time=0.5'], { maxBuffer: 1 << 26 });
const best = {};
for (const b of JSON.parse(out).benchmarks) {
  if (b.run_type !== 'iteration') continue;
  const name = b.run_name.replace(/\/min_time:[^/]+/, '').replace(/\/real_time$/, '');
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

// Linear time: seconds for 4 MiB over seconds for 1 MiB, from the best MB/s of each.
console.log('\nlinear time: sluice count, 4 MiB / 1 MiB of one kind of text (aim <= ' +
            `${kLinearAim}; 4.0 is linear)`);
for (const name of kEncodings) {
  const ratios = kLinearKinds.map((kind) => {
    const one = best[`linear/${name}/${kind}/1`];
    const four = best[`linear/${name}/${kind}/4`];
    const ratio = (4 * one) / four;
    console.log(`  ${name.padEnd(12)} ${kind.padEnd(7)} 1 MiB ${fmt(one)} MB/s, 4 MiB ` +
                `${fmt(four)} MB/s, time ratio ${ratio.toFixed(2)}`);
    return `${kind}=${ratio.toFixed(2)}`;
  });
  summary.push(`tokenizer-linear: ${name} ${ratios.join(' ')} (aim <= ${kLinearAim})`);
}

// End to end: whole processes counting the corpus file, best of kRuns.
function bestSeconds(cmd, args) {
  let bestS = Infinity;
  let output = '';
  for (let i = 0; i < kRuns; ++i) {
    const start = performance.now();
    output = execFileSync(cmd, args, { maxBuffer: 1 << 20 }).toString().trim();
    bestS = Math.min(bestS, (performance.now() - start) / 1e3);
  }
  return { seconds: bestS, output };
}
const tiktokenCounter = `
  const { get_encoding } = require(${JSON.stringify(require.resolve('tiktoken'))});
  const text = require('node:fs').readFileSync(process.argv[1], 'utf8');
  const enc = get_encoding(process.argv[2]);
  console.log(enc.encode_ordinary(text).length);`;
console.log(`\nend to end: count the ${fmt(bytes / 1e6)} MB file, whole process, best of ${kRuns}`);
for (const name of kEncodings) {
  const sluice = bestSeconds(sluiceBinary, ['tokenize', '--count', '--encoding', name, corpusFile]);
  const tiktoken = bestSeconds(process.execPath, ['-e', tiktokenCounter, corpusFile, name]);
  if (sluice.output !== tiktoken.output) {
    console.error(`token counts differ: sluice ${sluice.output}, tiktoken ${tiktoken.output}`);
    process.exitCode = 1;
  }
  console.log(`  ${name.padEnd(12)} sluice tokenize ${sluice.seconds.toFixed(3)} s, node + tiktoken ` +
              `${tiktoken.seconds.toFixed(3)} s (${sluice.output} tokens)`);
  summary.push(`tokenizer-process: ${name} sluice ${sluice.seconds.toFixed(3)} s, tiktoken ` +
               `${tiktoken.seconds.toFixed(3)} s, speedup ${fmt(tiktoken.seconds / sluice.seconds)}`);
}
fs.rmSync(dir, { recursive: true });

console.log('');
for (const line of summary) console.log(line);
