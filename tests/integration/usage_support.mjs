// Support for the usage end-to-end tests (tests/e2e/usage*.test.mjs): a private PostgreSQL
// server on loopback, and reading the usage store through `sluice usage report`. The sim and the
// gateway are started with tests/e2e/helpers.mjs. Every process started here is stopped by the
// caller's `after`.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { freePort, pollUntil, sluiceBin } from '../e2e/helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);
const postgresScript = resolve(here, 'usage_postgres.sh');

// A throwaway PostgreSQL server on 127.0.0.1; resolves { url, stop, pause, resume }.
export async function startPostgres() {
  const dir = mkdtempSync('/tmp/sluice-pg-');
  const port = await freePort();
  const url = execFileSync(postgresScript, ['start', dir, String(port)], { encoding: 'utf8' }).trim();
  return {
    url,
    stop: () => execFileSync(postgresScript, ['stop', dir]),
    // Down as if it crashed, then back on the same port with its data.
    pause: () => execFileSync(postgresScript, ['pause', dir]),
    resume: () => execFileSync(postgresScript, ['resume', dir]),
  };
}

// One row per request in the store: {request_id, app, deployment, backend, status, source,
// requests, prompt_tokens, completion_tokens, total_tokens}.
export async function storeRows(store, by = 'request_id,app,deployment,backend,status,source') {
  const { stdout } = await execFileAsync(sluiceBin, [
    'usage', 'report', '--store', store, '--by', by, '--since', '24h', '--format', 'json',
  ]);
  return JSON.parse(stdout).rows;
}

// Polls until `predicate(rows)` holds (or a hang bound passes); returns the last rows.
export async function waitForRows(store, predicate) {
  return pollUntil(async () => {
    try {
      return await storeRows(store);
    } catch {
      return [];  // the store file may not exist yet
    }
  }, predicate, { intervalMs: 100 });
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
