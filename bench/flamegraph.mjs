// Turns `perf script` output (stdin) into a flame graph SVG (stdout): the width of each frame is
// its share of the samples, callers below, callees above. Hover a frame for its full name and
// share. Debian ships no flame graph tool; this is the part of Brendan Gregg's that we need.
// Usage: perf script -i perf.data | node bench/flamegraph.mjs "title" > flame.svg
import { createInterface } from 'node:readline';

const title = process.argv[2] ?? 'flame graph';
const root = { name: 'all', value: 0, children: new Map(), kind: 'root' };

function frameOf(line) {
  // "\t    7f0c2a1b3c4d symbol+0x1a (/path/to/dso)"
  const match = /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
  if (!match) return null;
  let [, symbol, dso] = match;
  symbol = symbol.replace(/\+0x[0-9a-f]+$/, '');
  const library = dso.split('/').pop();
  if (symbol === '[unknown]') symbol = `[${library}]`;
  const kind = dso.includes('kernel') ? 'kernel' : /^sluice/.test(library) ? 'sluice' : 'library';
  return { name: symbol, kind };
}

let stack = [];
let inSample = false;
function endSample() {
  if (!inSample) return;
  inSample = false;
  root.value += 1;
  let node = root;
  for (let i = stack.length - 1; i >= 0; --i) {
    const frame = stack[i];
    let child = node.children.get(frame.name);
    if (!child) {
      child = { name: frame.name, value: 0, children: new Map(), kind: frame.kind };
      node.children.set(frame.name, child);
    }
    child.value += 1;
    node = child;
  }
  stack = [];
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') {
    endSample();
  } else if (!/^\s/.test(line)) {
    endSample();
    inSample = true;  // a sample's header: "comm pid [cpu] time: period event:"
  } else if (inSample) {
    const frame = frameOf(line);
    if (frame) stack.push(frame);
  }
}
endSample();

const width = 1200;
const rowHeight = 16;
const minWidth = 0.5;  // px: narrower frames are left out
let depth = 0;
function measure(node, level) {
  depth = Math.max(depth, level);
  for (const child of node.children.values()) {
    if ((child.value / root.value) * width >= minWidth) measure(child, level + 1);
  }
}
measure(root, 0);
const height = (depth + 1) * rowHeight + 40;

function colour(node) {
  let hash = 0;
  for (const c of node.name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const jitter = hash % 55;
  if (node.kind === 'kernel') return `rgb(230,${140 + (jitter % 40)},60)`;
  if (node.kind === 'sluice') return `rgb(${205 + (jitter % 50)},${60 + jitter},50)`;
  if (node.kind === 'root') return 'rgb(200,200,200)';
  return `rgb(${200 + (jitter % 50)},${190 + (jitter % 50)},70)`;
}
const escape = (text) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const out = [];
function draw(node, x, level) {
  const w = (node.value / root.value) * width;
  const y = height - 20 - (level + 1) * rowHeight;
  const share = ((100 * node.value) / root.value).toFixed(2);
  const label = w > 30 ? node.name.slice(0, Math.floor(w / 7)) : '';
  out.push(
    `<g><title>${escape(node.name)} (${share}%, ${node.value} samples)</title>` +
      `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${rowHeight - 1}" ` +
      `fill="${colour(node)}" rx="2"/>` +
      (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + 12}">${escape(label)}</text>` : '') +
      '</g>',
  );
  let childX = x;
  const children = [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const child of children) {
    if ((child.value / root.value) * width >= minWidth) draw(child, childX, level + 1);
    childX += (child.value / root.value) * width;
  }
}
if (root.value > 0) draw(root, 0, 0);

process.stdout.write(
  `<?xml version="1.0" standalone="no"?>\n` +
    `<svg version="1.1" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" ` +
    `font-family="monospace" font-size="11">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n` +
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="14">${escape(title)} ` +
    `(${root.value} samples; red: sluice, orange: kernel, yellow: libraries)</text>\n` +
    out.join('\n') +
    '\n</svg>\n',
);
