// @grpc/grpc-js (+ proto-loader, grpc-reflection-js) against the real daemon's gRPC port (router in
// front of the simulated devices). Usage: node real-grpc.mjs <port> <scenario>. Prints
// "ok <scenario> <json>" and exits 0 when every expectation holds; else prints the failure and exits 1.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import reflectionJs from 'grpc-reflection-js';

const [, , port, scenario] = process.argv;
const address = `127.0.0.1:${port}`;
const protos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');
const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protos] };
const BACKENDS = ['ollama-npu', 'ollama-igpu', 'ollama-nvidia', 'ollama-cpu'];

function load(file) {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, loaderOptions));
}

const compute = load('compute/v1/compute.proto').compute.v1;
const efficiencyApi = load('compute/v1/efficiency.proto').compute.v1;
const credentials = grpc.credentials.createInsecure();
const deadline = (ms) => new Date(Date.now() + ms);
const client = new compute.ComputeService(address, credentials);

function unary(target, method, request, options = {}) {
  return new Promise((resolve, reject) => {
    target[method](request, new grpc.Metadata(), { deadline: deadline(20000), ...options }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function collect(call) {
  return new Promise((resolve, reject) => {
    const messages = [];
    call.on('data', (m) => messages.push(m));
    call.on('error', (err) => { err.messages = messages; reject(err); });
    call.on('end', () => resolve(messages));
  });
}

async function expectStatus(promise, code, messageIncludes) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.code, code, `expected ${grpc.status[code]}, got ${grpc.status[err.code]}: ${err.details}`);
    if (messageIncludes) assert.ok(err.details.includes(messageIncludes), `details '${err.details}' lack '${messageIncludes}'`);
    return err;
  }
  assert.fail(`expected ${grpc.status[code]}, the call succeeded`);
}

function assertRouting(routing, backendUsed) {
  assert.ok(BACKENDS.includes(backendUsed), `backend_used '${backendUsed}'`);
  assert.equal(routing.backend, backendUsed);
  assert.ok(routing.reason, 'routing.reason');
  assert.ok(routing.estimated_latency_ms > 0, `estimated_latency_ms ${routing.estimated_latency_ms}`);
  assert.ok(routing.estimated_power_watts > 0, `estimated_power_watts ${routing.estimated_power_watts}`);
  assert.ok(!routing.alternatives.includes(backendUsed), 'the chosen backend is not its own alternative');
}

function assertStats(stats, tokens) {
  assert.equal(stats.tokens_generated, tokens, JSON.stringify(stats));
  assert.ok(stats.total_time_ms >= stats.time_to_first_token_ms, JSON.stringify(stats));
  assert.ok(stats.tokens_per_second > 0, JSON.stringify(stats));
  assert.ok(stats.energy_wh >= 0, JSON.stringify(stats));
}

const request = (extra = {}) => ({ prompt: 'Why is the sky blue?', model: 'llama3.2:1b', ...extra });

const scenarios = {
  async generate() {
    const res = await unary(client, 'Generate', request({ options: { max_tokens: 12 } }));
    assert.ok(res.response.trim().length > 0, 'empty response');
    assertRouting(res.routing, res.backend_used);
    assertStats(res.stats, 12);
    return { backend: res.backend_used, reason: res.routing.reason };
  },

  async 'generate-stream'() {
    const messages = await collect(client.GenerateStream(request({ options: { max_tokens: 15 } }), { deadline: deadline(20000) }));
    const last = messages.at(-1);
    const tokens = messages.slice(0, -1);
    assert.ok(tokens.length > 1, `${tokens.length} token messages`);
    assert.ok(tokens.every((m) => !m.done && m.token.length > 0), 'token messages carry text and are not done');
    assert.ok(tokens.map((m) => m.token).join('').trim().length > 0);
    assert.equal(last.done, true);
    assert.ok(BACKENDS.includes(last.backend_used), last.backend_used);
    assertStats(last.stats, 15);
    return { count: messages.length, backend: last.backend_used };
  },

  async chat() {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Why is the sky blue?' }];
    const res = await unary(client, 'Chat', { model: 'qwen2.5:0.5b', messages, options: { max_tokens: 9 } });
    assert.equal(res.message.role, 'assistant');
    assert.ok(res.message.content.trim().length > 0, 'empty content');
    assertRouting(res.routing, res.backend_used);
    assertStats(res.stats, 9);
    const stream = await collect(client.ChatStream({ model: 'qwen2.5:0.5b', messages, options: { max_tokens: 9 } }, { deadline: deadline(20000) }));
    assert.ok(stream.length > 2, `${stream.length} messages`);
    assert.ok(stream.slice(0, -1).map((m) => m.token).join('').trim().length > 0);
    assert.equal(stream.at(-1).done, true);
    assertStats(stream.at(-1).stats, 9);
    return { backend: res.backend_used };
  },

  async embed() {
    const a = await unary(client, 'Embed', { text: 'the sky is blue', model: 'nomic-embed-text' });
    const b = await unary(client, 'Embed', { text: 'the grass is green', model: 'nomic-embed-text' });
    assert.ok(a.embedding.length > 0, 'empty vector');
    assert.equal(a.embedding.length, b.embedding.length);
    assert.notDeepEqual(a.embedding, b.embedding);
    assertRouting(a.routing, a.backend_used);
    return { dimensions: a.embedding.length };
  },

  async admin() {
    const all = await unary(client, 'ListBackends', {});
    assert.deepEqual(all.backends.map((b) => b.id).sort(), [...BACKENDS].sort());
    for (const b of all.backends) {
      assert.equal(b.status.state, 'healthy', `${b.id}: ${JSON.stringify(b.status)}`);
      assert.ok(b.capabilities.models.includes('llama3.2:1b'), `${b.id}: ${b.capabilities.models}`);
      assert.ok(b.capabilities.generate && b.capabilities.stream, `${b.id} capabilities`);
      assert.ok(b.metrics.power_watts > 0, `${b.id} power`);
      assert.ok(Number(b.status.last_check_unix) > 1_600_000_000, `${b.id} last_check_unix ${b.status.last_check_unix}`);
    }
    assert.equal(all.backends.find((b) => b.id === 'ollama-npu').hardware, 'npu');
    const health = await unary(client, 'HealthCheck', {});
    assert.equal(health.status, 'healthy');
    assert.deepEqual(Object.keys(health.backend_health).sort(), [...BACKENDS].sort());
    assert.ok(Object.values(health.backend_health).every((s) => s === 'healthy'), JSON.stringify(health.backend_health));
    assert.ok(Math.abs(Number(health.timestamp_unix) - Date.now() / 1000) < 60, `timestamp_unix ${health.timestamp_unix}`);
    return { backends: all.backends.length };
  },

  async annotations() {
    const npu = await unary(client, 'Generate', request({ annotations: { target: 'npu' }, options: { max_tokens: 4 } }));
    assert.equal(npu.backend_used, 'ollama-npu');
    assert.equal(npu.routing.reason, 'explicit-target');
    const byId = await unary(client, 'Generate', request({ annotations: { target: 'ollama-igpu' }, options: { max_tokens: 4 } }));
    assert.equal(byId.backend_used, 'ollama-igpu');
    const used = new Set();
    for (let i = 0; i < 6; i++) {
      const res = await unary(client, 'Generate', request({ annotations: { max_power_watts: 15, latency_critical: i % 2 === 0 }, options: { max_tokens: 4 } }));
      used.add(res.backend_used);
      assert.ok(['ollama-npu', 'ollama-igpu'].includes(res.backend_used), `max_power_watts 15 went to ${res.backend_used}`);
      assert.ok(res.routing.estimated_power_watts <= 15, `estimated ${res.routing.estimated_power_watts} W`);
    }
    const fast = await unary(client, 'Generate', request({ annotations: { latency_critical: true }, options: { max_tokens: 4 } }));
    assert.equal(fast.backend_used, 'ollama-nvidia');
    await expectStatus(unary(client, 'Generate', request({ annotations: { target: 'tpu' } })), grpc.status.INVALID_ARGUMENT, 'tpu');
    await expectStatus(unary(client, 'Generate', request({ annotations: { max_power_watts: 1 } })), grpc.status.UNAVAILABLE);
    return { used: [...used] };
  },

  // The test checks afterwards that the slot was given back.
  async cancel() {
    const call = client.GenerateStream(request({ annotations: { target: 'igpu' }, options: { max_tokens: 100000 } }));
    let tokens = 0;
    const err = await new Promise((resolve) => {
      call.on('data', () => { if (++tokens === 3) call.cancel(); });
      call.on('error', resolve);
      call.on('end', () => resolve(null));
    });
    assert.ok(err, 'the stream ended instead of being cancelled');
    assert.equal(err.code, grpc.status.CANCELLED);
    return { tokens };
  },

  // A long generation under a short deadline; the test checks afterwards that the slot was given back.
  async deadline() {
    const started = Date.now();
    await expectStatus(
      unary(client, 'Generate', request({ annotations: { target: 'cpu' }, options: { max_tokens: 100000 } }), { deadline: deadline(500) }),
      grpc.status.DEADLINE_EXCEEDED);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `DEADLINE_EXCEEDED after ${elapsed} ms`);
    return { elapsed };
  },

  async 'not-found'() {
    await expectStatus(unary(client, 'Generate', request({ model: 'missing-model:7b' })), grpc.status.NOT_FOUND, 'missing-model:7b');
    await expectStatus(collect(client.GenerateStream(request({ model: 'missing-model:7b' }))), grpc.status.NOT_FOUND, 'missing-model:7b');
    await expectStatus(unary(client, 'Embed', { text: 'x', model: 'missing-embed' }), grpc.status.NOT_FOUND, 'missing-embed');
    return { ok: true };
  },

  // Run by the test while every device answers 500: nothing can serve.
  async unavailable() {
    const err = await expectStatus(unary(client, 'Generate', request({ options: { max_tokens: 4 } })), grpc.status.UNAVAILABLE);
    assert.ok(err.details.length > 0, 'a reason');
    await expectStatus(collect(client.GenerateStream(request({ options: { max_tokens: 4 } }))), grpc.status.UNAVAILABLE);
    return { details: err.details };
  },

  // Run by the test while the NVIDIA device drops its connection after 3 tokens.
  async dropped() {
    const err = await expectStatus(
      collect(client.GenerateStream(request({ annotations: { target: 'nvidia' }, options: { max_tokens: 50 } }), { deadline: deadline(20000) })),
      grpc.status.UNAVAILABLE);
    assert.ok(err.messages.length >= 1 && err.messages.length <= 3, `${err.messages.length} tokens before the error`);
    assert.ok(err.messages.every((m) => !m.done), 'no done message on a broken stream');
    return { tokens: err.messages.length };
  },

  // Starts in balanced mode (the test resets it) and leaves the daemon in balanced mode.
  async efficiency() {
    const eff = new efficiencyApi.EfficiencyService(address, credentials);
    assert.equal((await unary(eff, 'GetMode', {})).mode, 'EFFICIENCY_MODE_BALANCED');
    const watch = eff.WatchState({});
    const updates = [];
    let waiter = null;
    watch.on('data', (u) => { updates.push(u); if (waiter && waiter.predicate(u)) { waiter.resolve(u); waiter = null; } });
    watch.on('error', () => {});
    const next = (predicate) => {
      const seen = updates.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiter = { predicate, resolve };
        setTimeout(() => reject(new Error(`no matching update in ${JSON.stringify(updates)}`)), 10000);
      });
    };
    const first = await next(() => true);
    assert.equal(first.efficiency.mode, 'EFFICIENCY_MODE_BALANCED');
    assert.equal(first.on_ac_power, true);
    const set = await unary(eff, 'SetMode', { mode: 'EFFICIENCY_MODE_ULTRA_EFFICIENCY' });
    assert.equal(set.effective_mode, 'EFFICIENCY_MODE_ULTRA_EFFICIENCY');
    await next((u) => u.efficiency.effective_mode === 'EFFICIENCY_MODE_ULTRA_EFFICIENCY');
    const res = await unary(client, 'Generate', request({ annotations: { latency_critical: true }, options: { max_tokens: 4 } }));
    assert.equal(res.backend_used, 'ollama-npu');
    await unary(eff, 'SetMode', { mode: 'EFFICIENCY_MODE_BALANCED' });
    await next((u) => u.efficiency.mode === 'EFFICIENCY_MODE_BALANCED' && updates.indexOf(u) > 0);
    watch.cancel();
    return { updates: updates.length };
  },

  async health() {
    const health = load('grpc/health/v1/health.proto').grpc.health.v1;
    const h = new health.Health(address, credentials);
    assert.equal((await unary(h, 'Check', { service: '' })).status, 'SERVING');
    assert.equal((await unary(h, 'Check', { service: 'compute.v1.ComputeService' })).status, 'SERVING');
    return { ok: true };
  },

  async reflection() {
    const r = new reflectionJs.Client(address, credentials);
    const services = await r.listServices();
    for (const name of ['compute.v1.ComputeService', 'compute.v1.EfficiencyService', 'ollama_proxy.OllamaProxy', 'grpc.health.v1.Health']) {
      assert.ok(services.includes(name), `${name} not listed: ${services}`);
    }
    const root = await r.fileContainingSymbol('compute.v1.ComputeService');
    assert.ok(root.lookupService('compute.v1.ComputeService').methods.Generate);
    return { services };
  },

  async 'ollama-proxy'() {
    const legacy = load('ollama_proxy/ollama_proxy.proto').ollama_proxy;
    const old = new legacy.OllamaProxy(address, credentials);
    const res = await unary(old, 'Generate', request({ options: { max_tokens: 5 } }));
    assert.ok(res.response.trim().length > 0, 'empty response');
    assertRouting(res.routing, res.backend_used);
    assertStats(res.stats, 5);
    return { backend: res.backend_used };
  },
};

try {
  const run = scenarios[scenario];
  if (!run) throw new Error(`unknown scenario '${scenario}'`);
  const result = await run();
  console.log(`ok ${scenario} ${JSON.stringify(result)}`);
  process.exit(0);
} catch (err) {
  console.error(`FAIL ${scenario}: ${err.stack ?? err}`);
  process.exit(1);
}
