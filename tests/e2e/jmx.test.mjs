// End-to-end: JMeter plans (.jmx, and Azure Load Testing YAML with testType: JMX) run by
// `sluice load` against the real `sluice sim`. Every test checks what the simulator itself counted
// (/sim/usage, per client and per deployment) against the plan's shape and the load results.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import {
  resetSimUsage, runSluice, simUsage, startSluice, tempDir, writeIn,
} from './helpers.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// The client of examples/jmeter/sim.secrets (the same as examples/sim.yaml).
const TENANT = '00000000-0000-4000-8000-000000000001';
const CLIENT_ID = '11111111-1111-4111-8111-111111111111';
const CLIENT_SECRET = 'sim-secret';
const KEY_A = 'jmx-key-a';
const KEY_B = 'jmx-key-b';

const SIM = `
listen: {address: 127.0.0.1, port: 0, threads: 2}
seed: 7
deployments:
  gpt-4o:
    model: gpt-4o
    tokens_per_minute: 100000000
    time_to_first_token: 30ms
    tokens_per_second: 1000
    jitter: 0
    natural_length: 12
  chat:
    model: gpt-4o
    tokens_per_minute: 100000000
    time_to_first_token: 5ms
    tokens_per_second: 5000
    jitter: 0
    natural_length: 6
  fast:
    model: gpt-4o
    tokens_per_minute: 100000000
    time_to_first_token: 5ms
    tokens_per_second: 5000
    jitter: 0
    natural_length: 6
auth:
  mode: both
  api_keys:
    - {name: team-a, key: ${KEY_A}}
    - {name: team-b, key: ${KEY_B}}
  tenant_id: ${TENANT}
  clients:
    - client_id: ${CLIENT_ID}
      client_secret: ${CLIENT_SECRET}
      display_name: jmx-app
      roles: [Inference.User]
`;

let sim;
let simPort;
let dir;

const write = (name, text) => writeIn(dir, name, text);
const load = (args, env) => runSluice(['load', ...args], { env });
const results = (out) => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
const usage = () => simUsage(sim);
const resetUsage = () => resetSimUsage(sim);

// --- JMX builders: the XML JMeter saves, reduced to the properties that matter ---------------
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const sp = (name, value) => `<stringProp name="${name}">${esc(value)}</stringProp>`;
const bp = (name, value) => `<boolProp name="${name}">${value}</boolProp>`;
const dis = (enabled) => (enabled === false ? ' enabled="false"' : ' enabled="true"');

function plan(children, { name = 'Test Plan', variables = {}, planLevel = '' } = {}) {
  const args = Object.entries(variables).map(([k, v]) =>
    `<elementProp name="${k}" elementType="Argument">${sp('Argument.name', k)}${sp('Argument.value', v)}</elementProp>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.6.3">
  <hashTree>
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="${esc(name)}" enabled="true">
      <elementProp name="TestPlan.user_defined_variables" elementType="Arguments"><collectionProp name="Arguments.arguments">${args}</collectionProp></elementProp>
    </TestPlan>
    <hashTree>
${planLevel}
${children}
    </hashTree>
  </hashTree>
</jmeterTestPlan>
`;
}

function threadGroup(children, { name = 'Users', threads = 1, loops = 1, ramp = 0, onError = 'continue', extra = '' } = {}) {
  return `<ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="${esc(name)}" enabled="true">
  ${sp('ThreadGroup.on_sample_error', onError)}
  <elementProp name="ThreadGroup.main_controller" elementType="LoopController" guiclass="LoopControlPanel" testclass="LoopController" testname="Loop Controller" enabled="true">
    ${bp('LoopController.continue_forever', false)}${sp('LoopController.loops', loops)}
  </elementProp>
  ${sp('ThreadGroup.num_threads', threads)}${sp('ThreadGroup.ramp_time', ramp)}${extra}
</ThreadGroup>
<hashTree>
${children}
</hashTree>`;
}

function sampler(name, { path, method = 'POST', raw, args, encode = true, domain = '127.0.0.1', port, children = '', enabled } = {}) {
  let argXml = '';
  if (raw !== undefined) {
    argXml = `${bp('HTTPSampler.postBodyRaw', true)}<elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments">
<elementProp name="" elementType="HTTPArgument">${bp('HTTPArgument.always_encode', false)}${sp('Argument.value', raw)}${sp('Argument.metadata', '=')}</elementProp></collectionProp></elementProp>`;
  } else if (args) {
    argXml = `<elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments">${Object.entries(args).map(([k, v]) =>
      `<elementProp name="${k}" elementType="HTTPArgument">${bp('HTTPArgument.always_encode', encode)}${sp('Argument.name', k)}${sp('Argument.value', v)}${bp('HTTPArgument.use_equals', true)}</elementProp>`).join('')}</collectionProp></elementProp>`;
  }
  return `<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="${esc(name)}"${dis(enabled)}>
  ${argXml}${sp('HTTPSampler.domain', domain)}${sp('HTTPSampler.port', port ?? simPort)}${sp('HTTPSampler.protocol', 'http')}${sp('HTTPSampler.path', path)}${sp('HTTPSampler.method', method)}
  ${bp('HTTPSampler.follow_redirects', true)}${bp('HTTPSampler.use_keepalive', true)}
</HTTPSamplerProxy>
<hashTree>${children}</hashTree>`;
}

function headers(list, { name = 'HTTP Header Manager' } = {}) {
  return `<HeaderManager guiclass="HeaderPanel" testclass="HeaderManager" testname="${esc(name)}" enabled="true"><collectionProp name="HeaderManager.headers">${Object.entries(list).map(([k, v]) =>
    `<elementProp name="" elementType="Header">${sp('Header.name', k)}${sp('Header.value', v)}</elementProp>`).join('')}</collectionProp></HeaderManager><hashTree/>`;
}

function csv(filename, { names = '', header = false, recycle = true, stopThread = false, share = 'shareMode.all', name = 'CSV Data Set Config' } = {}) {
  return `<CSVDataSet guiclass="TestBeanGUI" testclass="CSVDataSet" testname="${esc(name)}" enabled="true">
${sp('delimiter', ',')}${sp('fileEncoding', 'UTF-8')}${sp('filename', filename)}${bp('ignoreFirstLine', header)}${bp('quotedData', true)}${bp('recycle', recycle)}${sp('shareMode', share)}${bp('stopThread', stopThread)}${sp('variableNames', names)}
</CSVDataSet><hashTree/>`;
}

const loop = (count, children, name = 'Loop Controller') =>
  `<LoopController guiclass="LoopControlPanel" testclass="LoopController" testname="${esc(name)}" enabled="true">${bp('LoopController.continue_forever', true)}${sp('LoopController.loops', count)}</LoopController><hashTree>${children}</hashTree>`;
const onceOnly = (children, name = 'Once Only Controller') =>
  `<OnceOnlyController guiclass="OnceOnlyControllerGui" testclass="OnceOnlyController" testname="${esc(name)}" enabled="true"/><hashTree>${children}</hashTree>`;
const jsonExtractor = (variable, path) =>
  `<JSONPostProcessor guiclass="JSONPostProcessorGui" testclass="JSONPostProcessor" testname="JSON Extractor" enabled="true">${sp('JSONPostProcessor.referenceNames', variable)}${sp('JSONPostProcessor.jsonPathExprs', path)}${sp('JSONPostProcessor.match_numbers', 1)}${sp('JSONPostProcessor.defaultValues', 'NOT_FOUND')}</JSONPostProcessor><hashTree/>`;

const chatBody = (content, maxTokens = 8) =>
  `{"messages": [{"role": "user", "content": "${content}"}], "max_tokens": ${maxTokens}}`;
const chatPath = (deployment) => `/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`;

before(async () => {
  dir = tempDir('sluice-jmx-e2e-');
  write('sim.yaml', SIM);
  sim = await startSluice(['sim', '--config', join(dir, 'sim.yaml')]);
  simPort = new URL(sim.url).port;
});

after(async () => {
  if (sim) await sim.stop();
});

describe('JMeter plans against sluice sim', () => {
  test('the blog example (YAML + JMX + CSV) runs unchanged, names sent to the sim with --connect-to', async () => {
    await resetUsage();
    const out = join(dir, 'out-example');
    const r = await load(['run', join(repo, 'examples/jmeter/genai_gateway_test.yaml'), '--out', out, '--quiet',
      '--env', 'PROTOCOL=http',
      '--connect-to', `login.microsoftonline.com:80:127.0.0.1:${simPort}`,
      '--connect-to', `mygenaigateway.company.com:80:127.0.0.1:${simPort}`,
      '--secrets-file', join(repo, 'examples/jmeter/sim.secrets')]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const res = results(out);
    // 4 virtual users x 3 loops; one token per virtual user (Once Only Controller).
    const chat = res.labels_summary.ChatCompletion;
    assert.equal(chat.requests, 12);
    assert.equal(chat.errors, 0);
    assert.equal(res.labels_summary['Get Entra ID Token'].requests, 4);
    assert.equal(res.labels_summary['Get Entra ID Token'].errors, 0);
    const u = await usage();
    assert.equal(u.clients[CLIENT_ID].requests, 12);
    assert.equal(u.deployments['gpt-4o'].requests, 12);
    assert.equal(chat.prompt_tokens, u.clients[CLIENT_ID].prompt_tokens);
    assert.equal(chat.completion_tokens, u.clients[CLIENT_ID].completion_tokens);
    // Streaming responses get time to first token (the sim waits 30 ms for the first one).
    assert.ok(chat.ttft_ms.p50 >= 25, `ttft p50 ${chat.ttft_ms.p50}`);
    const jtl = readFileSync(join(out, 'results.jtl'), 'utf8').trim().split('\n').slice(1);
    assert.equal(jtl.filter((l) => l.split(',')[2] === 'ChatCompletion').length, 12);
    for (const f of ['results.json', 'results.jtl', 'report.html']) {
      assert.ok(!readFileSync(join(out, f), 'utf8').includes(CLIENT_SECRET), f);
    }
    assert.ok(!r.stdout.includes(CLIENT_SECRET) && !r.stderr.includes(CLIENT_SECRET));
  });

  test('the blog example through sluice gateway: the gateway host goes to the gateway, the token to the sim', async () => {
    const config = write('gateway.yaml', `
listeners: [{address: 127.0.0.1, port: 0, threads: 1}]
admin: {address: 127.0.0.1, port: 0}
backends:
  - {name: sim, url: "${sim.url}", auth: {type: api-key, key: ${KEY_A}}}
pools:
  - {name: gpt-4o, members: [{backend: sim}]}
routes:
  - {name: gpt-4o, match: {deployments: [gpt-4o]}, pool: gpt-4o}
unknown_routes: reject
`);
    const gateway = await startSluice(['gateway', '--config', config]);
    try {
      await resetUsage();
      const out = join(dir, 'out-example-gateway');
      const r = await load(['run', join(repo, 'examples/jmeter/genai_gateway_test.yaml'), '--out', out, '--quiet',
        '--env', 'PROTOCOL=http',
        '--connect-to', `login.microsoftonline.com:80:127.0.0.1:${simPort}`,
        '--connect-to', `mygenaigateway.company.com:80:127.0.0.1:${new URL(gateway.url).port}`,
        '--secrets-file', join(repo, 'examples/jmeter/sim.secrets')]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const chat = results(out).labels_summary.ChatCompletion;
      assert.equal(chat.requests, 12);
      assert.equal(chat.errors, 0);
      // The sim saw the gateway's own key, never the load tester's token.
      const u = await usage();
      assert.equal(u.clients['team-a'].requests, 12);
      assert.equal(u.clients[CLIENT_ID], undefined);
    } finally {
      await gateway.stop();
    }
  });

  test('form and raw bodies: v1 and v2 token requests (encoded and not), raw JSON chat', async () => {
    await resetUsage();
    const tokenArgs = { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: '${__GetSecret(CLIENT_SECRET)}' };
    const body = onceOnly(
      sampler('token v1 (encoded form)', { path: `/${TENANT}/oauth2/token`, args: { ...tokenArgs, resource: 'https://cognitiveservices.azure.com' } }) +
      sampler('token v2 (plain form)', {
        path: `/${TENANT}/oauth2/v2.0/token`, encode: false,
        args: { ...tokenArgs, scope: 'https://cognitiveservices.azure.com/.default' },
        children: jsonExtractor('access_token', '$.access_token'),
      })) +
      sampler('chat (raw)', { path: chatPath('chat'), raw: chatBody('${__UUID()} tell me'), children: headers({ Authorization: 'Bearer ${access_token}' }) });
    const p = write('bodies.jmx', plan(threadGroup(body, { threads: 2, loops: 3 })));
    const out = join(dir, 'out-bodies');
    const r = await load(['run', p, '--out', out, '--quiet'], { CLIENT_SECRET });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const res = results(out).labels_summary;
    assert.equal(res['token v1 (encoded form)'].requests, 2);
    assert.equal(res['token v1 (encoded form)'].errors, 0);
    assert.equal(res['token v2 (plain form)'].errors, 0);
    assert.equal(res['chat (raw)'].requests, 6);
    assert.equal(res['chat (raw)'].errors, 0);
    const u = await usage();
    assert.equal(u.clients[CLIENT_ID].requests, 6);
    assert.equal(u.deployments.chat.requests, 6);
  });

  test('header managers scope like JMeter: inner managers override outer ones', async () => {
    await resetUsage();
    const body = headers({ 'api-key': KEY_A, 'Content-Type': 'application/json' }) +
      sampler('as-a', { path: chatPath('chat'), raw: chatBody('a') }) +
      loop(2, headers({ 'api-key': KEY_B }) +
        sampler('as-b', { path: chatPath('chat'), raw: chatBody('b') }) +
        sampler('own-a', { path: chatPath('fast'), raw: chatBody('own'), children: headers({ 'api-key': KEY_A }) }));
    const p = write('headers.jmx', plan(threadGroup(body, { threads: 2, loops: 1 })));
    const yaml = write('headers.yaml', `version: v0.1
testId: headers
testType: JMX
testPlan: headers.jmx
failureCriteria:
  - "as-b: avg(response_time_ms) > 60000"
  - "own-a: percentage(error) > 0"
`);
    const out = join(dir, 'out-headers');
    const r = await load(['run', yaml, '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const u = await usage();
    // Per virtual user: as-a once with key A, then twice as-b (key B) and own-a (its own key A).
    assert.equal(u.clients['team-a'].requests, 6);
    assert.equal(u.clients['team-b'].requests, 4);
    assert.equal(u.deployments.fast.requests, 4);
    const res = results(out);
    assert.equal(res.labels_summary['own-a'].requests, 4);
    assert.deepEqual(res.criteria.map((c) => c.result), ['passed', 'passed']);
    // The sampler label is the name failure criteria use.
    const failing = write('headers-fail.yaml', readFileSync(yaml, 'utf8').replace('avg(response_time_ms) > 60000', 'avg(response_time_ms) > 0'));
    const f = await load(['run', failing, '--out', join(dir, 'out-headers-fail'), '--quiet']);
    assert.equal(f.code, 1, f.stderr + f.stdout);
    assert.equal(p.endsWith('headers.jmx'), true);
  });

  test('CSV with and without a header line: each row picks the deployment', async () => {
    write('rows.csv', 'chat,first\nfast,second\nchat,third\n');
    write('rows-header.csv', 'deployment,word\nchat,first\nfast,second\nchat,third\n');
    for (const [file, opts] of [['rows.csv', { names: 'deployment,word' }], ['rows-header.csv', {}], ['rows-header.csv', { names: 'deployment,word', header: true }]]) {
      await resetUsage();
      const body = csv(file, opts) + headers({ 'api-key': KEY_A }) +
        sampler('chat', { path: '/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21', raw: chatBody('${word}') });
      const p = write(`csv-${file}-${Boolean(opts.header)}.jmx`, plan(threadGroup(body, { threads: 1, loops: 6 })));
      const out = join(dir, `out-csv-${file}-${Boolean(opts.header)}`);
      const r = await load(['run', p, '--out', out, '--quiet']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const u = await usage();
      assert.equal(u.deployments.chat.requests, 4, file);
      assert.equal(u.deployments.fast.requests, 2, file);
      assert.equal(results(out).labels_summary.chat.errors, 0);
    }
  });

  test('recycle off with stop thread: every row is used exactly once, then the users stop', async () => {
    await resetUsage();
    write('five.csv', 'one\ntwo\nthree\nfour\nfive\n');
    const body = csv('five.csv', { names: 'word', recycle: false, stopThread: true }) + headers({ 'api-key': KEY_B }) +
      sampler('chat', { path: chatPath('chat'), raw: chatBody('${word}') });
    const p = write('stop.jmx', plan(threadGroup(body, { threads: 3, loops: 10 })));
    const out = join(dir, 'out-stop');
    const r = await load(['run', p, '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(results(out).labels_summary.chat.requests, 5);
    assert.equal((await usage()).clients['team-b'].requests, 5);
  });

  test('disabled elements (even unsupported ones) are skipped with their subtree', async () => {
    await resetUsage();
    const body = headers({ 'api-key': KEY_A }) +
      `<IfController guiclass="IfControllerPanel" testclass="IfController" testname="If" enabled="false"/><hashTree>${sampler('inside if', { path: chatPath('fast'), raw: chatBody('x') })}</hashTree>` +
      sampler('off', { path: chatPath('fast'), raw: chatBody('x'), enabled: false }) +
      sampler('on', { path: chatPath('chat'), raw: chatBody('y') });
    const p = write('disabled.jmx', plan(threadGroup(body, { threads: 1, loops: 2 })));
    const out = join(dir, 'out-disabled');
    const r = await load(['run', p, '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const labels = results(out).labels_summary;
    assert.deepEqual(Object.keys(labels), ['on']);
    const u = await usage();
    assert.equal(u.deployments.chat.requests, 2);
    assert.equal(u.deployments.fast, undefined);
  });

  test('nested controllers: loops inside loops, once-only inside a loop', async () => {
    await resetUsage();
    const body = headers({ 'api-key': KEY_A }) +
      loop(2, onceOnly(sampler('once', { path: chatPath('fast'), raw: chatBody('once') }))) +
      loop(2, loop(3, sampler('inner', { path: chatPath('chat'), raw: chatBody('inner') }), 'Inner'), 'Outer');
    const p = write('nested.jmx', plan(threadGroup(body, { threads: 2, loops: 2 })));
    const out = join(dir, 'out-nested');
    const r = await load(['run', p, '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const labels = results(out).labels_summary;
    assert.equal(labels.once.requests, 2);  // once per virtual user
    assert.equal(labels.inner.requests, 24);  // 2 users x 2 loops x 2 x 3
    const u = await usage();
    assert.equal(u.deployments.fast.requests, 2);
    assert.equal(u.deployments.chat.requests, 24);
  });
});

// A recorded web plan's shape: HTTP Request Defaults give the server, a Cookie Manager keeps the
// session a login sets. The app is a small HTTP server here that sets and reads cookies.
describe('JMeter plans as recorded: HTTP Request Defaults and HTTP Cookie Manager', () => {
  let app;
  let appPort;
  const seen = [];
  let logins = 0;
  before(async () => {
    app = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.cookie ?? ''}`.trim());
      if (req.url === '/login') {
        res.setHeader('Set-Cookie', [`session=s${++logins}; Path=/; HttpOnly`, 'stray=1; Domain=elsewhere.test']);
      }
      res.end('ok');
    });
    await new Promise((r) => app.listen(0, '127.0.0.1', r));
    appPort = app.address().port;
  });
  after(() => new Promise((r) => app.close(r)));

  const defaults = () => `<ConfigTestElement guiclass="HttpDefaultsGui" testclass="ConfigTestElement" testname="HTTP Request Defaults" enabled="true">
<elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments"/></elementProp>
${sp('HTTPSampler.domain', '127.0.0.1')}${sp('HTTPSampler.port', appPort)}${sp('HTTPSampler.protocol', 'http')}${sp('HTTPSampler.path', '')}${sp('HTTPSampler.connect_timeout', '')}${sp('HTTPSampler.response_timeout', '')}
</ConfigTestElement><hashTree/>`;
  const cookieManager = (clear) => `<CookieManager guiclass="CookiePanel" testclass="CookieManager" testname="HTTP Cookie Manager" enabled="true">
<collectionProp name="CookieManager.cookies"><elementProp name="tenant" elementType="Cookie" testname="tenant">${sp('Cookie.value', 'blue')}${sp('Cookie.domain', '127.0.0.1')}${sp('Cookie.path', '/')}${bp('Cookie.secure', false)}<longProp name="Cookie.expires">0</longProp></elementProp></collectionProp>
${bp('CookieManager.clearEachIteration', clear)}</CookieManager><hashTree/>`;
  // Samplers with no server or port of their own, as a recording leaves them.
  const bare = (name, path) => sampler(name, { path, method: 'GET', domain: '', port: '' });

  for (const clear of [true, false]) {
    test(`2 users x 2 iterations, cookies ${clear ? 'cleared' : 'kept'} each iteration`, async () => {
      seen.length = 0;
      logins = 0;
      const p = write(`recorded-${clear}.jmx`, plan(threadGroup(bare('login', '/login') + bare('check', '/check'), { threads: 1, loops: 2 }),
        { planLevel: defaults() + cookieManager(clear) }));
      const out = join(dir, `out-recorded-${clear}`);
      const r = await load(['run', p, '--out', out, '--quiet']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const labels = results(out).labels_summary;
      assert.equal(labels.login.requests, 2);
      assert.equal(labels.check.requests, 2);
      assert.equal(labels.check.errors, 0);
      // The user-defined cookie always; the session only after a login, and a second login of
      // the same user carries the first session unless the cookies were cleared.
      assert.deepEqual(seen, clear
        ? ['/login tenant=blue', '/check tenant=blue; session=s1', '/login tenant=blue', '/check tenant=blue; session=s2']
        : ['/login tenant=blue', '/check tenant=blue; session=s1', '/login tenant=blue; session=s1', '/check tenant=blue; session=s2']);
    });
  }
});

describe('JMeter plans: the command line and failing targets', () => {
  const infinite = (path) => plan(threadGroup(headers({ 'api-key': KEY_A }) + sampler('chat', { path, raw: chatBody('x') }), { loops: -1 }));

  test('--duration runs a plan with infinite loops, as the refusal advises', async () => {
    const p = write('forever.jmx', infinite(chatPath('chat')));
    const refusedRun = await load(['run', p, '--out', join(dir, 'out-forever-refused')]);
    assert.equal(refusedRun.code, 2);
    assert.match(refusedRun.stderr, /forever\.jmx:\d+:\d+: Test Plan\/Users: infinite loops \(-1\) need a duration.*--duration/);
    const out = join(dir, 'out-forever');
    const r = await load(['run', p, '--duration', '1s', '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const chat = results(out).labels_summary.chat;
    assert.ok(chat.requests >= 1, JSON.stringify(chat));
    assert.equal(chat.errors, 0);
  });

  test('a Runtime Controller paced by a Constant Throughput Timer (the service-proxy plan\'s shape)', async () => {
    await resetUsage();
    const timer = `<ConstantThroughputTimer guiclass="TestBeanGUI" testclass="ConstantThroughputTimer" testname="Constant Throughput Timer" enabled="true"><intProp name="calcMode">0</intProp><doubleProp><name>throughput</name><value>600.0</value><savedValue>0.0</savedValue></doubleProp></ConstantThroughputTimer><hashTree/>`;
    const runtime = `<RunTime guiclass="RunTimeGui" testclass="RunTime" testname="Runtime Controller" enabled="true">${bp('LoopController.continue_forever', true)}${sp('RunTime.seconds', 1)}</RunTime><hashTree>${timer}${sampler('chat', { path: chatPath('chat'), raw: chatBody('paced') })}</hashTree>`;
    const p = write('paced.jmx', plan(threadGroup(headers({ 'api-key': KEY_A }) + runtime, { threads: 2, loops: 1 })));
    const out = join(dir, 'out-paced');
    const r = await load(['run', p, '--out', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const chat = results(out).labels_summary.chat;
    assert.equal(chat.errors, 0);
    // One start every 100 ms per user for 1 s: at most 11 a user, however fast the machine.
    assert.ok(chat.requests >= 2 && chat.requests <= 22, `requests ${chat.requests}`);
    assert.equal((await usage()).deployments.chat.requests, chat.requests);
  });

  test('users back off when the target refuses connections, and the summary says so', async () => {
    const dead = write('dead.jmx', plan(threadGroup(sampler('chat', { path: chatPath('chat'), raw: chatBody('x'), port: 1 }), { threads: 2, loops: 3 })));
    const r = await load(['run', dead, '--out', join(dir, 'out-dead')]);
    assert.match(r.stdout, /connection failures: 6 samples; after each the virtual user paused \(100 ms/);
    const off = await load(['run', dead, '--out', join(dir, 'out-dead-off'), '--connect-backoff', '0']);
    assert.match(off.stdout, /connection failures: 6 samples; no pause after them/);
    assert.equal(results(join(dir, 'out-dead')).connect_failures, 6);
    assert.equal(results(join(dir, 'out-dead')).backoff_waits, 6);
  });

  test('https:// pointed at a plain-HTTP port is explained, not left to OpenSSL', async () => {
    const p = write('tls-on-plain.jmx', plan(threadGroup(sampler('chat', { path: chatPath('chat'), raw: chatBody('x') }), { loops: 1 }))
      .replace(sp('HTTPSampler.protocol', 'http'), sp('HTTPSampler.protocol', 'https')));
    const out = join(dir, 'out-tls-on-plain');
    const r = await load(['run', p, '--out', out, '--quiet']);
    assert.equal(results(out).labels_summary.chat.errors, 1, r.stderr + r.stdout);
    const jtl = readFileSync(join(out, 'results.jtl'), 'utf8');
    assert.match(jtl, /plain HTTP/);
    assert.match(jtl, /http:\/\/127\.0\.0\.1/);
  });
});

describe('JMeter plans refused before the run', () => {
  async function refused(name, xml, pattern, env = {}) {
    const p = write(name, xml);
    const out = join(dir, `out-refused-${name}`);
    const r = await load(['run', p, '--out', out], env);
    assert.equal(r.code, 2, `${name}: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, pattern);
    assert.ok(!existsSync(join(out, 'results.json')));
  }
  const ok = () => sampler('chat', { path: chatPath('chat'), raw: chatBody('x') });

  test('unsupported element, with its path in the plan', async () => {
    await refused('txn.jmx', plan(threadGroup(`<TransactionController testname="Checkout" enabled="true"/><hashTree>${ok()}</hashTree>`)),
      /txn\.jmx:\d+:\d+: Test Plan\/Users\/Checkout: unsupported element TransactionController: .*enabled="false"/);
  });

  test('unsupported function and BeanShell script', async () => {
    await refused('fn.jmx', plan(threadGroup(sampler('chat', { path: chatPath('chat'), raw: chatBody('${__counter(TRUE,n)}') }))),
      /fn\.jmx:\d+:\d+: Test Plan\/Users\/chat: body .*unsupported function __counter\(\)/);
    await refused('bsh.jmx', plan(threadGroup(ok(), { threads: '${__BeanShell(vars.get("n"))}' })),
      /bsh\.jmx:\d+:\d+: Test Plan\/Users: thread count: __BeanShell script "vars.get\("n"\)" is not supported/);
  });

  test('malformed XML, with its line', async () => {
    await refused('broken.jmx', '<?xml version="1.0"?>\n<jmeterTestPlan>\n<hashTree>\n<TestPlan>\n</hashTree>\n',
      /broken\.jmx:5:\d+: malformed XML/);
  });

  test('missing CSV file', async () => {
    await refused('nocsv.jmx', plan(threadGroup(csv('absent.csv', { names: 'word' }) + ok())),
      /nocsv\.jmx:\d+:\d+: Test Plan\/Users\/CSV Data Set Config: CSV file absent\.csv not found/);
  });

  test('every problem of a test in one run: YAML secrets, plan secrets, elements, files, variables', async () => {
    const body = `<IfController testname="Only sometimes" enabled="true"/><hashTree/>${csv('absent.csv', { names: 'prompt' })}`
      + sampler('chat', { path: chatPath('${nowhere}'), raw: chatBody('${prompt} ${__GetSecret(JMX_PLAN_SECRET_X)}') });
    write('many.jmx', plan(threadGroup(body, { threads: 'many' })));
    const yaml = write('many.yaml', `testId: many
testType: JMX
testPlan: many.jmx
secrets:
  - {name: JMX_SECRET_ONE, value: https://kv.vault.azure.net/secrets/one}
  - {name: JMX_SECRET_TWO, value: https://kv.vault.azure.net/secrets/two}
`);
    const r = await load(['run', yaml, '--out', join(dir, 'out-many')]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    for (const expected of [/many\.yaml:5:\d+: secrets\[0\]: .*JMX_SECRET_ONE/, /many\.yaml:6:\d+: secrets\[1\]: .*JMX_SECRET_TWO/,
      /many\.jmx:\d+:\d+: .*JMX_PLAN_SECRET_X/, /many\.jmx:\d+:\d+: Test Plan\/Users: thread count "many"/,
      /Test Plan\/Users\/Only sometimes: unsupported element IfController/, /CSV file absent\.csv not found/,
      /uses \$\{nowhere\}/, /7 problems; fix them all, then run again/]) {
      assert.match(r.stderr, expected);
    }
  });

  test('unresolved variables: thread count, sampler fields, secrets', async () => {
    await refused('threads.jmx', plan(threadGroup(ok(), { threads: '${__P(THREADS_UNSET_X)}${USERS}' })),
      /threads\.jmx:\d+:\d+: Test Plan\/Users: thread count .*USERS/);
    await refused('var.jmx', plan(threadGroup(sampler('chat', { path: chatPath('${deployment}'), raw: chatBody('x') }))),
      /var\.jmx:\d+:\d+: Test Plan\/Users\/chat: URL uses \$\{deployment\}, which nothing defines/);
    await refused('secret.jmx', plan(threadGroup(sampler('chat', { path: chatPath('chat'), raw: chatBody('${__GetSecret(JMX_NO_SUCH_SECRET)}') }))),
      /secret\.jmx:\d+:\d+: .*__GetSecret\(JMX_NO_SUCH_SECRET\).*--secrets-file/);
  });
});
