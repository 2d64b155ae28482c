// Support for the usage end-to-end tests (tests/e2e/usage*.test.mjs): a private PostgreSQL
// server, the simulator and the gateway on loopback, and reading the usage store through
// `sluice usage report`. Every process started here is stopped by the caller's `after`.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { sluiceBin, startSluice } from '../e2e/helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);
const postgresScript = resolve(here, 'usage_postgres.sh');

export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
    server.on('error', reject);
  });
}

export function tempDir(prefix = 'sluice-usage-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// A throwaway PostgreSQL server on 127.0.0.1; resolves { url, stop }.
export async function startPostgres() {
  const dir = mkdtempSync('/tmp/sluice-pg-');
  const port = await freePort();
  const url = execFileSync(postgresScript, ['start', dir, String(port)], { encoding: 'utf8' }).trim();
  return { url, stop: () => execFileSync(postgresScript, ['stop', dir]) };
}

// `sluice gateway` with the given YAML; resolves { url, admin, process, stop, output }.
export async function startGateway(configPath) {
  const gateway = await startSluice(['gateway', '--config', configPath], {
    readyPattern: /sluice gateway admin on (http:\/\/\S+)/,
  });
  const listening = gateway.output().stdout.match(/sluice gateway listening on (http:\/\/\S+)/);
  return { ...gateway, admin: gateway.url, url: listening[1] };
}

// One row per request in the store: {request_id, app, deployment, backend, status, source,
// requests, prompt_tokens, completion_tokens, total_tokens}.
export async function storeRows(store, by = 'request_id,app,deployment,backend,status,source') {
  const { stdout } = await execFileAsync(sluiceBin, [
    'usage', 'report', '--store', store, '--by', by, '--since', '24h', '--format', 'json',
  ]);
  return JSON.parse(stdout).rows;
}

// Polls until `predicate(rows)` holds or `timeoutMs` passes; returns the last rows.
export async function waitForRows(store, predicate, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let rows = [];
  while (Date.now() < deadline) {
    try {
      rows = await storeRows(store);
      if (predicate(rows)) return rows;
    } catch {
      // the store file may not exist yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return rows;
}

// Sums `rows` per value of `key` (a function of the row).
export function sumBy(rows, key) {
  const out = {};
  for (const row of rows) {
    const k = key(row);
    out[k] ??= { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    out[k].requests += row.requests;
    out[k].prompt_tokens += row.prompt_tokens;
    out[k].completion_tokens += row.completion_tokens;
    out[k].total_tokens += row.total_tokens;
  }
  return out;
}
