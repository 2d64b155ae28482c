// sluice tokenize against npm tiktoken (OpenAI's Rust core compiled to WASM) on a few MB of real
// text from this machine and on every assigned Unicode code point, for both encodings; plus the
// command's error handling. The corpus is the one bench/tokenizer measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { get_encoding } from 'tiktoken';
import { corpusChunks, unicodeSweep } from '../../bench/tokenizer/corpus.mjs';
import { sluiceBin, tempFile } from './helpers.mjs';

const kEncodings = ['cl100k_base', 'o200k_base'];

function sluiceIds(file, args) {
  const out = execFileSync(sluiceBin, ['tokenize', '--ids', ...args, file], {
    cwd: '/',  // the rank tables are embedded: no dependence on the source tree
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out);
}

// Fails with the first differing position and the tokens around it, decoded.
function assertSameIds(ours, theirs, enc, what) {
  const n = Math.max(ours.length, theirs.length);
  for (let i = 0; i < n; ++i) {
    if (ours[i] !== theirs[i]) {
      const show = (ids) => ids.slice(Math.max(0, i - 4), i + 4)
        .map((id) => JSON.stringify(new TextDecoder().decode(enc.decode_single_token_bytes(id))))
        .join(' ');
      assert.fail(`${what}: first difference at token ${i} of ${n}\n  sluice:   ${show(ours)}\n` +
                  `  tiktoken: ${show(theirs)}`);
    }
  }
}

test('corpus of man pages, licences, headers and sources: same ids as tiktoken', () => {
  const chunks = corpusChunks();
  const total = chunks.reduce((sum, c) => sum + Buffer.byteLength(c), 0);
  assert.ok(total > 2_000_000, `corpus too small (${total} bytes): missing man pages or headers?`);
  const files = chunks.map((c, i) => tempFile(`chunk${i}.txt`, c));
  for (const name of kEncodings) {
    const enc = get_encoding(name);
    chunks.forEach((text, i) => {
      assertSameIds(sluiceIds(files[i], ['--encoding', name]), [...enc.encode_ordinary(text)], enc,
                    `${name} chunk ${i}`);
    });
    enc.free();
  }
});

// Writes `text` to a file and checks `sluice tokenize --ids` on it against tiktoken, both encodings.
function assertFileMatchesTiktoken(fileName, text, what) {
  const file = tempFile(fileName, text);
  for (const name of kEncodings) {
    const enc = get_encoding(name);
    assertSameIds(sluiceIds(file, ['--encoding', name]), [...enc.encode_ordinary(text)], enc,
                  `${name} ${what}`);
    enc.free();
  }
}

test('every assigned code point in class-sensitive contexts: same ids as tiktoken', () => {
  assertFileMatchesTiktoken('unicode.txt', unicodeSweep(), 'Unicode sweep');
});

// Pieces longer than 256 bytes go to sluice's linear-time backtracking encoder, not the scan that
// real text nearly always takes; tiktoken merges them in quadratic time, so they stay a few KB.
test('long pieces (runs, repeated patterns, random letters and bytes): same ids as tiktoken', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const randomOf = (alphabet, n) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const pieces = [
    'a'.repeat(3000), ' '.repeat(2000) + 'x', '日'.repeat(1200), 'ab'.repeat(900),
    '=-'.repeat(700), 'é'.repeat(900), `${'aab'.repeat(500)}!`, randomOf('abcdefghij', 2500),
    randomOf('aeiou', 2500), randomOf('abcdefghijklmnopqrstuvwxyz', 4000), randomOf('=*-#_', 1500),
    randomOf('ÄÖÜäöüßéèàçñ', 1500), ` ${randomOf('xyzXYZ', 1000)}'s`, '\n'.repeat(700) + 'z',
  ];
  assertFileMatchesTiktoken('long-pieces.txt', pieces.join(' '), 'long pieces');
});

test('--count, --model and --allow-special agree with tiktoken', () => {
  const text = 'Hello <|endoftext|> world\n\n  ';
  const file = tempFile('special.txt', text);
  const enc = get_encoding('cl100k_base');
  const count = execFileSync(sluiceBin, ['tokenize', '--count', '--model', 'gpt-4', file]);
  assert.equal(Number(count.toString().trim()), enc.encode_ordinary(text).length);
  assert.deepEqual(sluiceIds(file, ['--model', 'gpt-35-turbo', '--allow-special']),
                   [...enc.encode(text, 'all')]);
  enc.free();
  const o200k = get_encoding('o200k_base');
  const plain = execFileSync(sluiceBin, ['tokenize', file]);  // default: o200k_base, count
  assert.equal(Number(plain.toString().trim()), o200k.encode_ordinary(text).length);
  o200k.free();
});

test('--chat counts the cookbook example as the API did', () => {
  const body = JSON.stringify({
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
      { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
      { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
      { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
      { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
      { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
    ],
  });
  const run = (args) => execFileSync(sluiceBin, ['tokenize', '--chat', ...args], { input: body }).toString().trim();
  assert.equal(run([]), '124');
  assert.equal(run(['--model', 'gpt-4-0613']), '129');
  assert.equal(run(['--model', 'gpt-3.5-turbo-0301']), '127');
});

test('errors: invalid UTF-8, disallowed special, bad JSON exit 1; unknown names exit 2', () => {
  const run = (args, input) => spawnSync(sluiceBin, ['tokenize', ...args], { input });
  let r = run([], Buffer.from([0x61, 0x62, 0xc3, 0x28]));
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /not valid UTF-8: byte 0xC3 at offset 2/);
  r = run(['--disallow-special'], 'x<|endoftext|>');
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /special token <\|endoftext\|> at byte 1/);
  r = run(['--chat', '--encoding', 'o200k_base'], '{"messages": [');
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /malformed JSON/);
  r = run(['--encoding', 'p50k'], 'x');
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /cl100k_base, o200k_base, o200k_harmony/);
  r = run(['--model', 'my-deployment'], 'x');
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /unknown model 'my-deployment'.*gpt-4o/);
});
