// Gateway operations: SIGHUP reloads the configuration atomically (and keeps the old one when the
// new one is invalid); SIGTERM drains: new connections are refused, streams in progress finish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { AzureOpenAI } from 'openai';
import { exitCode, fetchWithTimeout, pollUntil, postChat, startSluice, tempFile } from './helpers.mjs';

let sim;

before(async () => {
  sim = await startSluice(['sim', '--port', '0', '--deployment', 'gpt-4o=gpt-4o', '--deployment', 'gpt-4o-mini=gpt-4o-mini',
    '--api-key', 'gw=upstream-key', '--ttft-ms', '10', '--tokens-per-second', '50']);
});
after(async () => { await sim?.stop(); });

function config(deployments) {
  return `
listeners: [{address: 127.0.0.1, port: 0}]
backends: [{name: sim, url: "${sim.url}", auth: {type: api-key, key: upstream-key}}]
pools: [{name: p, members: [{backend: sim}]}]
routes: [{name: r, match: {deployments: [${deployments.join(', ')}]}, pool: p}]
drain_timeout: 120s
`;
}

async function status(url, deployment) {
  const res = await postChat(url, deployment, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
  await res.text();
  return res.status;
}

test('SIGHUP reloads routes; an invalid file is refused and the running config stays', async () => {
  const file = tempFile('gateway.yaml', config(['gpt-4o']));
  const gateway = await startSluice(['gateway', '--config', file]);
  try {
    assert.equal(await status(gateway.url, 'gpt-4o'), 200);
    assert.equal(await status(gateway.url, 'gpt-4o-mini'), 404);

    writeFileSync(file, config(['gpt-4o', 'gpt-4o-mini']));
    gateway.process.kill('SIGHUP');
    const mini = await pollUntil(() => status(gateway.url, 'gpt-4o-mini'), (s) => s === 200, { intervalMs: 100 });
    assert.equal(mini, 200, 'the new route serves after reload');

    writeFileSync(file, 'listeners: [{port: 0}]\nroutes: [{name: r, pool: missing}]\n');
    gateway.process.kill('SIGHUP');
    await pollUntil(() => gateway.output().stderr, (stderr) => /reload refused/.test(stderr));
    assert.match(gateway.output().stderr, /reload refused.*unknown pool 'missing'/);
    assert.equal(await status(gateway.url, 'gpt-4o-mini'), 200, 'still serving the previous config');
  } finally {
    await gateway.stop();
  }
});

test('SIGTERM drains: the stream in progress finishes, then the process exits 0', async () => {
  const gateway = await startSluice(['gateway', '--config', tempFile('gateway.yaml', config(['gpt-4o']))]);
  const client = new AzureOpenAI({ endpoint: gateway.url, apiKey: 'x', apiVersion: '2024-10-21', maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: 'count slowly' }], max_tokens: 40, stream: true,
  });
  let chunks = 0;
  let text = '';
  for await (const chunk of stream) {
    if (++chunks === 3) gateway.process.kill('SIGTERM');
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(chunks >= 40, `the stream finished (${chunks} chunks)`);
  assert.ok(text.length > 0);
  // drain_timeout is 120 s: only a gateway that did not drain properly waits that long.
  const code = await exitCode(gateway.process, 180000);
  assert.equal(code, 0, 'exited cleanly after draining');
  await assert.rejects(fetchWithTimeout(`${gateway.url}/openai/deployments/gpt-4o/chat/completions`, {}, 2000));
});
