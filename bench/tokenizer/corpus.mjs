// The tokenizer test and benchmark corpus: a few MB of real text found on any Debian machine
// (licences, English and translated man pages, C headers, Python sources, X11 compose tables),
// chosen deterministically (sorted paths, fixed byte budgets). Files that are not valid UTF-8 are
// skipped. Used by tests/e2e/tokenizer.test.mjs and bench/tokenizer/run.sh.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const kMaxFileBytes = 256 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Sources in order; `budget` is how many bytes each may contribute.
const kSources = [
  { name: 'licences', dir: '/usr/share/common-licenses', match: /./, budget: 400_000 },
  { name: 'man', dir: '/usr/share/man/man1', match: /\.gz$/, budget: 1_000_000 },
  { name: 'man-translated', dirs: '/usr/share/man', perDirBudget: 40_000, budget: 1_000_000 },
  { name: 'c-headers', dir: '/usr/include', match: /\.h$/, budget: 600_000 },
  { name: 'python', dir: '/usr/lib/python3.11', match: /\.py$/, budget: 600_000 },
  { name: 'x11-compose', dir: '/usr/share/X11/locale/en_US.UTF-8', match: /^Compose$/,
    budget: 200_000 },
];

function listFiles(dir, match) {
  let names;
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => match.test(n)).map((n) => path.join(dir, n)).filter((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

// Whole file as text (gunzipped if needed), cut at a line end to kMaxFileBytes; null if not UTF-8.
function readText(file) {
  let bytes = fs.readFileSync(file);
  if (file.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  if (bytes.length > kMaxFileBytes) {
    const cut = bytes.lastIndexOf(0x0a, kMaxFileBytes);
    bytes = bytes.subarray(0, cut > 0 ? cut + 1 : kMaxFileBytes);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function takeFiles(files, budget, out, source) {
  let used = 0;
  for (const file of files) {
    if (used >= budget) break;
    const text = readText(file);
    if (text === null || text.length === 0) continue;
    out.push({ source, file, text });
    used += Buffer.byteLength(text);
  }
  return used;
}

// [{source, file, text}] in a fixed order. `scale` multiplies every byte budget: 1 gives about
// 4 MB, 3.5 about 11 MB (the licences and the compose table are all there is of those).
export function corpusFiles(scale = 1) {
  const out = [];
  for (const s of kSources) {
    const budget = s.budget * scale;
    if (s.dirs) {
      let used = 0;
      const langs = fs.readdirSync(s.dirs).sort().filter((d) => !d.startsWith('man'));
      for (const lang of langs) {
        if (used >= budget) break;
        const files = listFiles(path.join(s.dirs, lang, 'man1'), /\.gz$/);
        used += takeFiles(files, Math.min(s.perDirBudget * scale, budget - used), out,
                          `${s.name}/${lang}`);
      }
    } else {
      takeFiles(listFiles(s.dir, s.match), budget, out, s.name);
    }
  }
  return out;
}

// The corpus cut into chunks of about `chunkBytes`, each a run of whole files joined by newlines.
export function corpusChunks(chunkBytes = 512 * 1024, scale = 1) {
  const chunks = [];
  let current = [];
  let size = 0;
  for (const f of corpusFiles(scale)) {
    current.push(f.text);
    size += Buffer.byteLength(f.text);
    if (size >= chunkBytes) {
      chunks.push(current.join('\n'));
      current = [];
      size = 0;
    }
  }
  if (current.length > 0) chunks.push(current.join('\n'));
  return chunks;
}

// One string that puts every assigned, non-private-use code point (as Node's Unicode sees it) in
// the contexts where the pre-tokenizer's character classes decide the split: after a lower-case
// and an upper-case letter, before a contraction, after a digit, after a space, before a newline.
export function unicodeSweep() {
  const assigned = /\p{Assigned}/u;
  const privateUse = /\p{Co}/u;
  const parts = [];
  for (let cp = 0x80; cp <= 0x10ffff; ++cp) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const x = String.fromCodePoint(cp);
    if (!assigned.test(x) || privateUse.test(x)) continue;
    parts.push(`a${x}'s A${x}b 1${x} ${x}\n`);
  }
  return parts.join('');
}
