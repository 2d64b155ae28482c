// Shared helpers for the end-to-end tests: start the real sluice binary on a free loopback port,
// wait until it says where it listens, and stop it afterwards. Every wait is bounded.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const sluiceBin = process.env.SLUICE_BIN || resolve(here, '../../build/sluice');

const tempDirs = [];

// Writes `text` to a fresh temporary file and returns its path; removeTempFiles() deletes it.
export function tempFile(name, text) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  tempDirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export function removeTempFiles() {
  while (tempDirs.length) rmSync(tempDirs.pop(), { recursive: true, force: true });
}

// Starts `sluice <args...>` and resolves once a stdout line matches `readyPattern` (its first
// group is the URL). Rejects if the process exits first or nothing matches within `timeoutMs`.
export function startSluice(args, { readyPattern = /listening on (http:\/\/\S+)/, timeoutMs = 15000, env = {} } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(sluiceBin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} not ready after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const m = stdout.match(readyPattern);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolvePromise({
          url: m[1],
          process: child,
          output: () => ({ stdout, stderr }),
          stop: () => stopProcess(child),
        });
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`cannot start ${sluiceBin}: ${error.message}`));
    });
    child.on('exit', (code, signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`sluice exited (${code ?? signal}) before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

// SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves with the exit code.
export function stopProcess(child, graceMs = 5000) {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolvePromise(child.exitCode);
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
    child.kill('SIGTERM');
  });
}

// fetch with a deadline.
export async function fetchWithTimeout(url, options = {}, timeoutMs = 10000) {
  return fetch(url, { ...options, signal: AbortSignal.timeout(timeoutMs) });
}
