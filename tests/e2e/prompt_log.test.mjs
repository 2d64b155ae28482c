// Prompt and response logging end to end: the official openai client sends a plain and a streamed
// chat completion through `sluice gateway` (prompt_log on one route only) to `sluice sim`. The
// JSON Lines file must hold both, with the full prompt, the full response text the client got
// (the stream reassembled), the redaction rules applied, and nothing from the route without it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { AzureOpenAI } from 'openai';

import {
  fetchWithTimeout, pollUntil, startGateway, startSluice, tempDir, tempFile,
} from './helpers.mjs';

const API_VERSION = '2024-10-21';
const SECRET = 'sk-ABCDEFGHIJKLMNOPQRST';
let sim, gateway, logFile;

const SIM_CONFIG = `
listen: {address: 127.0.0.1, port: 0, threads: 1}
seed: 5
deployments:
  gpt-4o: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 5ms, tokens_per_second: 0, natural_length: 30}
  quiet: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 0, natural_length: 10}
  slow: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 0ms, tokens_per_second: 40, natural_length: 4000}
auth: {mode: keys, api_keys: [{name: gateway, key: upstream-key}]}
`;

function gatewayConfig(simUrl, file) {
  return `
listeners: [{address: 127.0.0.1, port: 0, threads: 2}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: sim, url: "${simUrl}", auth: {type: api-key, key: upstream-key}}
pools:
  - {name: sim, members: [{backend: sim}]}
routes:
  - name: logged
    match: {deployments: [gpt-4o, slow]}
    pool: sim
    policies:
      prompt_log:
        file: ${file}
        sample_rate: 1.0
        redact:
          patterns: ['sk-[A-Za-z0-9]{16,}']
          json_fields: [user, metadata.email]
          replacement: "[GONE]"
  - {name: quiet, match: {deployments: [quiet]}, pool: sim}
`;
}

function client(deployment) {
  return new AzureOpenAI({
    endpoint: gateway.url, apiKey: 'client-key', apiVersion: API_VERSION, deployment, maxRetries: 0,
  });
}

function logLines() {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// The log's entries once it has at least `count` (the writer is a background thread).
async function waitForLines(count) {
  return pollUntil(logLines, (lines) => lines.length >= count);
}

async function metrics() {
  return (await fetchWithTimeout(`${gateway.admin}/metrics`)).text();
}

before(async () => {
  sim = await startSluice(['sim', '--config', tempFile('sim.yaml', SIM_CONFIG)]);
  logFile = join(tempDir(), 'prompts.jsonl');
  gateway = await startGateway(tempFile('gateway.yaml', gatewayConfig(sim.url, logFile)));
});

after(async () => {
  await gateway?.stop();
  await sim?.stop();
});

test('plain and streamed completions are logged in full, redacted, on the opted-in route only', async () => {
  const prompt = `My key is ${SECRET}; tell me about rivers.`;
  const plain = await client('gpt-4o').chat.completions
    .create({ messages: [{ role: 'user', content: prompt }], max_tokens: 40, user: 'alice@example.com' })
    .withResponse();
  const plainId = plain.response.headers.get('x-sluice-request-id');
  const plainText = plain.data.choices[0].message.content;
  assert.ok(plainText.length > 0);

  const streamPrompt = `Stream please, ${SECRET}.`;
  const { data: stream, response } = await client('gpt-4o').chat.completions
    .create({ messages: [{ role: 'user', content: streamPrompt }], stream: true, metadata: { email: 'bob@example.com' } })
    .withResponse();
  const streamId = response.headers.get('x-sluice-request-id');
  let streamText = '';
  let chunks = 0;
  for await (const chunk of stream) {
    streamText += chunk.choices?.[0]?.delta?.content ?? '';
    chunks += 1;
  }
  assert.ok(chunks > 3, 'the answer came in several chunks');

  // A request on the route without prompt_log.
  const quiet = await client('quiet').chat.completions
    .create({ messages: [{ role: 'user', content: 'not for the log' }], max_tokens: 5 })
    .withResponse();
  const quietId = quiet.response.headers.get('x-sluice-request-id');

  const lines = await waitForLines(2);
  assert.equal(lines.length, 2, `two entries: ${JSON.stringify(lines)}`);
  const byId = Object.fromEntries(lines.map((l) => [l.request_id, l]));
  assert.equal(byId[quietId], undefined, 'the route without prompt_log is not logged');

  const p = byId[plainId];
  assert.ok(p, `plain request ${plainId} logged`);
  assert.equal(p.streamed, false);
  assert.equal(p.status, 200);
  assert.equal(p.route, 'logged');
  assert.equal(p.deployment, 'gpt-4o');
  assert.equal(p.response, plainText, 'the full response text');
  const plainBody = JSON.parse(p.prompt);
  assert.equal(plainBody.messages[0].content, 'My key is [GONE]; tell me about rivers.');
  assert.equal(plainBody.user, '[GONE]');
  assert.equal(plainBody.max_tokens, 40, 'the rest of the request body is kept');
  assert.equal(p.redactions, 2);
  assert.ok(!JSON.stringify(p).includes(SECRET));

  const s = byId[streamId];
  assert.ok(s, `streamed request ${streamId} logged`);
  assert.equal(s.streamed, true);
  assert.equal(s.response, streamText, 'the stream reassembled into one text');
  const streamBody = JSON.parse(s.prompt);
  assert.equal(streamBody.messages[0].content, 'Stream please, [GONE].');
  assert.equal(streamBody.metadata.email, '[GONE]');
  assert.equal(streamBody.stream, true);
  assert.ok(!JSON.stringify(s).includes(SECRET));

  // The counter follows the file write it counts: wait for it rather than race it.
  const written = /sluice_prompt_log_written_total\{log="file:[^"]*prompts\.jsonl",sink="file"\} 2\n/;
  const text = await pollUntil(metrics, (t) => written.test(t));
  assert.match(text, written);
  assert.match(text, /sluice_prompt_log_dropped_total\{log="[^"]*",reason="queue_full"\} 0\n/);
});

test('a client that leaves mid-stream is logged with the text it was sent', async () => {
  const before = logLines().length;
  const controller = new AbortController();
  const { data: stream, response } = await client('slow').chat.completions
    .create({ messages: [{ role: 'user', content: 'A long story, please.' }], stream: true },
      { signal: controller.signal })
    .withResponse();
  const id = response.headers.get('x-sluice-request-id');
  let received = '';
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      received += chunk.choices?.[0]?.delta?.content ?? '';
      if (++chunks === 10) controller.abort();
    }
  } catch {
    // the abort may surface as an error or as the end of the iteration
  }
  assert.ok(chunks >= 10 && received.length > 0);
  const lines = await waitForLines(before + 1);
  const entry = lines.find((l) => l.request_id === id);
  assert.ok(entry, `the abandoned stream ${id} is logged`);
  assert.equal(entry.streamed, true);
  assert.ok(entry.response.startsWith(received), 'it holds what the client received');
  // The whole answer is 4000 tokens, at least 4000 characters, and takes 100 s at 40 tokens/s; the
  // client left after 10 chunks. Only a gateway that kept relaying long after (or logged the full
  // answer) reaches 4000 characters.
  assert.ok(entry.response.length < 4000, `only the part sent before the client left: ${entry.response.length}`);
  assert.equal(JSON.parse(entry.prompt).messages[0].content, 'A long story, please.');
});
