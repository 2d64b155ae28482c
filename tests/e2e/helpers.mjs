// Shared helpers for the end-to-end tests: start the real sluice binary on a free loopback port,
// wait until it says where it listens, talk to it, and stop it afterwards.
//
// Every wait here is bounded, and every bound is one only a hang reaches (HANG_BOUND_MS): a test
// must never fail because the machine is slow or busy, so nothing waits "long enough" for a fixed
// time and then asserts; it waits until the thing happened (pollUntil) or for the process's word.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const sluiceBin = process.env.SLUICE_BIN || resolve(here, '../../build/sluice');

export const HANG_BOUND_MS = 60000;

export const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

// Calls `probe()` (sync or async) until `done(value)` holds or `timeoutMs` has passed, and returns
// the last value either way, for the caller to assert on with its own message.
export async function pollUntil(probe, done = Boolean, { timeoutMs = HANG_BOUND_MS, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}

// A loopback port nothing listens on right now.
// The value of the first series of metric `name` on the admin listener's /metrics (NaN if absent).
export async function firstMetricValue(admin, name) {
  const text = await (await fetchWithTimeout(`${admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

const tempDirs = [];

// A fresh temporary directory; removeTempFiles() deletes it.
export function tempDir(prefix = 'sluice-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// Writes `text` to `name` in `dir` and returns its path.
export function writeIn(dir, name, text) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Writes `text` to a fresh temporary file and returns its path; removeTempFiles() deletes it.
export function tempFile(name, text) {
  return writeIn(tempDir(), name, text);
}

export function removeTempFiles() {
  while (tempDirs.length) rmSync(tempDirs.pop(), { recursive: true, force: true });
}

// Each test file runs in a process of its own: its temporary folders (configs, journals, stores,
// Chromium profiles, ~100 of them and ~1 GB for a whole `make test`) go when it exits, so repeated
// runs do not fill the disk. A file whose tests failed keeps them for a look, and says where;
// SLUICE_KEEP_TEMP=1 keeps them always.
process.on('exit', (code) => {
  if (tempDirs.length === 0) return;
  if (code !== 0 || process.env.SLUICE_KEEP_TEMP === '1') {
    process.stderr.write(`kept ${tempDirs.length} temporary folder(s) of this test file: ${tempDirs.join(' ')}\n`);
    return;
  }
  try {
    removeTempFiles();
  } catch {
    // A child still writing into a folder; leaving it behind is no reason to fail the run.
  }
});

// Starts `sluice <args...>` and resolves once a stdout line matches `readyPattern` (its first
// group is the URL). Rejects if the process exits first or nothing matches within `timeoutMs`.
export function startSluice(args, { readyPattern = /listening on (http:\/\/\S+)/, timeoutMs = HANG_BOUND_MS, env = {} } = {}) {
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

// `sluice gateway --config <configPath>` with an admin listener; resolves like startSluice, with
// `url` the main listener and `admin` the admin one. `env` is added to its environment.
export async function startGateway(configPath, { env = {} } = {}) {
  const gateway = await startSluice(['gateway', '--config', configPath], {
    readyPattern: /sluice gateway admin on (http:\/\/\S+)/,
    env,
  });
  const listening = gateway.output().stdout.match(/sluice gateway listening on (http:\/\/\S+)/);
  return { ...gateway, admin: gateway.url, url: listening[1] };
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

// Resolves with the exit code once `child` exits, or with 'timeout' after `timeoutMs`.
export function exitCode(child, timeoutMs = HANG_BOUND_MS) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise('timeout'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

// Runs `sluice <args...>` to completion; resolves {code, stdout, stderr} (code 99 when it was
// killed at `timeoutMs`). `env` is added to this process's environment; a variable set to
// undefined is removed.
export function runSluice(args, { timeoutMs = 2 * HANG_BOUND_MS, env = {} } = {}) {
  return new Promise((resolvePromise) => {
    execFile(sluiceBin, args, { timeout: timeoutMs, env: { ...process.env, ...env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => resolvePromise({ code: error ? (error.code ?? 99) : 0, stdout, stderr }));
  });
}

// fetch with a deadline.
export async function fetchWithTimeout(url, options = {}, timeoutMs = HANG_BOUND_MS) {
  return fetch(url, { ...options, signal: AbortSignal.timeout(timeoutMs) });
}

// POSTs a chat completion body to `deployment` at `baseUrl`; resolves with the fetch Response.
export function postChat(baseUrl, deployment, body, headers = {}) {
  return fetchWithTimeout(`${baseUrl}/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

// The simulator's own accounting (/sim/usage) and its reset.
export async function simUsage(sim) {
  const r = await fetchWithTimeout(`${sim.url}/sim/usage`);
  if (r.status !== 200) throw new Error(`/sim/usage answered ${r.status}: ${await r.text()}`);
  return r.json();
}

export async function resetSimUsage(sim) {
  const r = await fetchWithTimeout(`${sim.url}/sim/usage/reset`, { method: 'POST' });
  if (!r.ok) throw new Error(`/sim/usage/reset answered ${r.status}: ${await r.text()}`);
}

// Adds a simulator fault (POST /sim/faults), or clears them all when `fault` is null.
export async function setSimFault(sim, fault) {
  const r = await fetchWithTimeout(`${sim.url}/sim/faults`, {
    method: fault ? 'POST' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: fault ? JSON.stringify(fault) : undefined,
  });
  if (!r.ok) throw new Error(`fault update failed: ${r.status} ${await r.text()}`);
}

// The gateway's id of a request: its own x-request-id on answers it made, and echoed by the
// backend as x-ms-client-request-id on relayed ones (the backend sets its own x-request-id).
export function gatewayRequestId(headers) {
  return headers.get('x-ms-client-request-id') ?? headers.get('x-request-id');
}

// OpenAI's published chat counting rule (the cookbook's num_tokens_from_messages) with a tiktoken
// encoding.
export function chatPromptTokens(enc, messages) {
  let n = 3;
  for (const m of messages) {
    n += 3;
    for (const [key, value] of Object.entries(m)) {
      if (typeof value !== 'string') continue;
      n += enc.encode(value).length;
      if (key === 'name') n += 1;
    }
  }
  return n;
}

// The `identity:` policy entry (YAML, indented for a top-level `policies:`) that gives each app of
// `apps` ({app: key}) an API key presented in `header`; the key's id is `<app>-key`.
export function apiKeyIdentityYaml(apps, header = 'x-app-key') {
  const keys = Object.entries(apps).map(([app, key]) => `        - {id: ${app}-key, key: ${key}, app_id: ${app}}`);
  return ['  identity:', '    api_keys:', `      header: ${header}`, '      keys:', ...keys].join('\n');
}

// Resolves true when a redis server answers PING on 127.0.0.1:`port`, false otherwise.
export function redisPing(port) {
  return new Promise((resolvePromise) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500, () => { socket.destroy(); resolvePromise(false); });
    socket.on('error', () => resolvePromise(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) { socket.end(); resolvePromise(reply.startsWith('+PONG')); }
    });
  });
}

// A private redis-server on 127.0.0.1:`port`, no persistence (Debian package `redis-server`: a
// test that needs it fails, never skips, without it). Resolves with the child process once it
// answers PING; stop it with stopProcess.
export async function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let failed = null;
  child.on('error', (e) => { failed = e; });
  const up = await pollUntil(async () => failed !== null || child.exitCode !== null || redisPing(port));
  if (failed) throw new Error(`cannot start redis-server (is the redis-server package installed?): ${failed.message}`);
  if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
  if (up) return child;
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port}`);
}

// The start of a gateway config (YAML) with one listener and an admin listener on loopback and one
// pool `sim` of the simulator at `simUrl` (its backend key `upstream-key`); routes and policies
// follow.
export function simGatewayYaml(simUrl, { threads = 1 } = {}) {
  return `listeners: [{address: 127.0.0.1, port: 0, threads: ${threads}}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: sim, url: "${simUrl}", auth: {type: api-key, key: upstream-key}}
pools:
  - {name: sim, members: [{backend: sim}]}
`;
}

// A `sluice sim` config (YAML) on loopback with `deployments` ({name: settings YAML}) and one API
// key `upstream-key` for the gateway (the key simGatewayYaml presents).
export function simYaml(deployments, { threads = 1, seed = 1 } = {}) {
  const lines = Object.entries(deployments).map(([name, settings]) => `  ${name}: ${settings}`);
  return [`listen: {address: 127.0.0.1, port: 0, threads: ${threads}}`, `seed: ${seed}`, 'deployments:', ...lines,
    'auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}', ''].join('\n');
}

// Debian's headless Chromium (CHROMIUM overrides the path), for tests that render a page.
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Runs headless Chromium once with `args` (e.g. --dump-dom URL) in a fresh profile, bounded.
export function runChromium(args, timeoutMs = HANG_BOUND_MS) {
  const profile = tempDir('sluice-chromium-');
  return spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args,
  ], { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 });
}

// Environment for processes that must not pick up the machine's own proxy settings.
export const NO_PROXY_ENV = {
  http_proxy: undefined, https_proxy: undefined, HTTPS_PROXY: undefined, HTTP_PROXY: undefined,
  all_proxy: undefined, ALL_PROXY: undefined, no_proxy: undefined, NO_PROXY: undefined,
};

// tinyproxy's binary (Debian package `tinyproxy`, in scripts/install-deps.sh), or null.
export function findTinyproxy() {
  for (const candidate of ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy']) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v tinyproxy'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function canConnect(port) {
  return new Promise((resolvePromise) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolvePromise(true); });
    socket.once('error', () => resolvePromise(false));
  });
}

// Starts tinyproxy in the foreground (-d) with its own configuration in `dir` (never the system
// service) and Basic auth `user`/`password`, allowing CONNECT to `connectPort` too (by default
// tinyproxy tunnels only to 443 and 563); waits until it accepts connections. Resolves
// {port, url (with credentials), process, log()}; stop it with stopProcess(proxy.process).
export async function startTinyproxy(dir, { user, password, connectPort } = {}) {
  const binary = findTinyproxy();
  if (!binary) throw new Error('tinyproxy is not installed (Debian package tinyproxy; scripts/install-deps.sh installs it)');
  const port = await freePort();
  const logFile = join(dir, 'tinyproxy.log');
  const conf = writeIn(dir, 'tinyproxy.conf', [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 60',
    `LogFile "${logFile}"`,
    'LogLevel Info',
    'MaxClients 50',
    'Allow 127.0.0.1',
    ...(connectPort ? [`ConnectPort ${connectPort}`] : []),
    ...(user ? [`BasicAuth ${user} ${password}`] : []),
    '',
  ].join('\n'));
  const child = spawn(binary, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const ready = await pollUntil(async () => child.exitCode === null && canConnect(port),
    (up) => up || child.exitCode !== null);
  if (!ready || child.exitCode !== null) throw new Error(`tinyproxy did not start on port ${port}: ${output}`);
  return {
    port,
    url: user ? `http://${user}:${password}@127.0.0.1:${port}` : `http://127.0.0.1:${port}`,
    process: child,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}
