// `sluice sim` as a command: flags with no config file, the admin port, graceful shutdown.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AzureOpenAI } from 'openai';

import { exitCode, fetchWithTimeout, startSluice, stopProcess } from './helpers.mjs';

test('flags alone give a working gpt-4o deployment and a separate admin port', async () => {
  const sim = await startSluice(['sim', '--host', '127.0.0.1', '--port', '0', '--admin-port', '0'],
    { readyPattern: /listening on (http:\/\/\S+)\nsluice sim admin on http:\/\/\S+/ });
  try {
    const admin = sim.output().stdout.match(/sluice sim admin on (http:\/\/\S+)/)[1];
    const client = new AzureOpenAI({ endpoint: sim.url, apiKey: 'sim-key', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
    const c = await client.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(c.model, 'gpt-4o-2024-08-06');
    const usage = await (await fetchWithTimeout(`${admin}/sim/usage`)).json();
    assert.equal(usage.deployments['gpt-4o'].completion_tokens, 3);
    // The admin port serves only the admin routes.
    const r = await fetchWithTimeout(`${admin}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 404);
    await r.text();
  } finally {
    await sim.stop();
  }
});

test('--deployment flags replace the list; a bad flag value is a clear error', async () => {
  const sim = await startSluice(['sim', '--port', '0', '--deployment', 'emb=text-embedding-3-large', '--api-key', 'k=abc']);
  try {
    assert.match(sim.output().stdout, /deployment emb: text-embedding-3-large/);
    const r = await fetchWithTimeout(`${sim.url}/openai/deployments/emb/embeddings?api-version=2024-10-21`, {
      method: 'POST', headers: { 'api-key': 'abc', 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x', encoding_format: 'float' }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).data[0].embedding.length, 3072);
  } finally {
    await sim.stop();
  }
  await assert.rejects(startSluice(['sim', '--port', '0', '--deployment', 'x=no-such-model']),
    /no tokenizer encoding for model 'no-such-model'/);
});

test('SIGTERM lets a stream in progress finish, then exits 0', async () => {
  const sim = await startSluice(['sim', '--port', '0', '--ttft-ms', '100', '--tokens-per-second', '40']);
  const client = new AzureOpenAI({ endpoint: sim.url, apiKey: 'sim-key', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
  const stream = await client.chat.completions.create({ messages: [{ role: 'user', content: 'long' }], stream: true, max_tokens: 20 });
  let text = '';
  let first = true;
  for await (const chunk of stream) {
    if (first) {
      sim.process.kill('SIGTERM');
      first = false;
    }
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(text.length > 0);
  const code = await exitCode(sim.process);
  if (code === 'timeout') await stopProcess(sim.process);
  assert.equal(code, 0);
});
