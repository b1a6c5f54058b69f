// End-to-end gRPC client for the router's gRPC surface, driven by Router.Tests/Grpc.
// Usage: node grpc-client.mjs <port> <scenario>
// Loads the .proto files from protos/ with @grpc/proto-loader and calls the server with
// @grpc/grpc-js, as any Node client would. Prints "ok <scenario> <json>" and exits 0 when every
// expectation holds; otherwise prints the failure and exits 1.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import reflectionJs from 'grpc-reflection-js';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const [, , port, scenario] = process.argv;
const address = `127.0.0.1:${port}`;
const protos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');
const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protos] };

function load(file) {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, loaderOptions));
}

const compute = load('compute/v1/compute.proto').compute.v1;
const efficiency = load('compute/v1/efficiency.proto').compute.v1;
const credentials = grpc.credentials.createInsecure();
const deadline = (ms) => new Date(Date.now() + ms);

function unary(client, method, request, options = {}) {
  return new Promise((resolve, reject) => {
    const call = client[method](request, new grpc.Metadata(), { deadline: deadline(10000), ...options }, (err, res) => {
      if (err) reject(err); else resolve({ res, headers: call.headersSeen });
    });
    call.on('metadata', (md) => { call.headersSeen = md.getMap(); });
  });
}

function collect(call) {
  return new Promise((resolve, reject) => {
    const messages = [];
    let headers = {};
    call.on('metadata', (md) => { headers = md.getMap(); });
    call.on('data', (m) => messages.push(m));
    call.on('error', (err) => { err.messages = messages; reject(err); });
    call.on('end', () => resolve({ messages, headers }));
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

const request = (model, extra = {}) => ({ prompt: 'hi', model, ...extra });

const scenarios = {
  async generate() {
    const client = new compute.ComputeService(address, credentials);
    const { res } = await unary(client, 'Generate', request('llama3.2:1b', {
      annotations: { target: 'npu', latency_critical: true, max_latency_ms: 900, max_power_watts: 15, priority: 2,
        custom: { media_type: 'voice', request_id: 'req-7' } },
      options: { max_tokens: 16, temperature: 0.5, top_p: 0.9, top_k: 40, stop: ['\n'], context_length: 2048 },
    }));
    assert.equal(res.response, 'echo: hi');
    assert.equal(res.backend_used, 'ollama-npu');
    assert.equal(res.routing.backend, 'ollama-npu');
    assert.equal(res.routing.reason, 'power-efficient');
    assert.deepEqual(res.routing.alternatives, ['ollama-igpu', 'ollama-cpu']);
    assert.equal(res.routing.estimated_latency_ms, 813);
    assert.equal(res.stats.tokens_generated, 4);
    assert.equal(res.stats.total_time_ms, 41);
    return res;
  },

  async 'generate-stream'() {
    const client = new compute.ComputeService(address, credentials);
    const { messages } = await collect(client.GenerateStream(request('llama3.2:1b'), { deadline: deadline(10000) }));
    const last = messages.at(-1);
    assert.equal(messages.slice(0, -1).map((m) => m.token).join(''), 'Hello, world');
    assert.ok(messages.slice(0, -1).every((m) => !m.done));
    assert.equal(last.done, true);
    assert.equal(last.backend_used, 'ollama-npu');
    assert.equal(last.stats.tokens_generated, 4);
    return { count: messages.length };
  },

  async chat() {
    const client = new compute.ComputeService(address, credentials);
    const messages = [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }];
    const { res } = await unary(client, 'Chat', { model: 'llama3.2:1b', messages });
    assert.equal(res.message.role, 'assistant');
    assert.equal(res.message.content, 'chat: hello there');
    assert.equal(res.backend_used, 'ollama-npu');
    const stream = await collect(client.ChatStream({ model: 'llama3.2:1b', messages }, { deadline: deadline(10000) }));
    assert.equal(stream.messages.map((m) => m.token).join(''), 'Hello, world');
    assert.equal(stream.messages.at(-1).done, true);
    return res;
  },

  async embed() {
    const client = new compute.ComputeService(address, credentials);
    const { res } = await unary(client, 'Embed', { text: 'vector me', model: 'nomic-embed-text' });
    assert.deepEqual(res.embedding, [0.25, -0.5, 1]);
    assert.equal(res.backend_used, 'ollama-npu');
    return res;
  },

  async admin() {
    const client = new compute.ComputeService(address, credentials);
    const all = (await unary(client, 'ListBackends', {})).res;
    assert.deepEqual(all.backends.map((b) => b.id), ['ollama-npu', 'openai-gpu']);
    const npu = all.backends[0];
    assert.equal(npu.status.state, 'healthy');
    assert.equal(npu.status.last_check_unix, '1700000000');
    assert.deepEqual(npu.capabilities.models, ['llama3.2:1b', 'qwen2.5:0.5b']);
    assert.equal(npu.metrics.power_watts, 3);
    assert.equal(all.backends[1].metrics.avg_latency_ms, 140);
    const filtered = (await unary(client, 'ListBackends', { type_filter: 'openai' })).res;
    assert.deepEqual(filtered.backends.map((b) => b.id), ['openai-gpu']);
    const health = (await unary(client, 'HealthCheck', {})).res;
    assert.equal(health.status, 'degraded');
    assert.deepEqual(health.backend_health, { 'ollama-npu': 'healthy', 'openai-gpu': 'degraded' });
    return { health };
  },

  async 'ollama-proxy'() {
    const legacy = load('ollama_proxy/ollama_proxy.proto').ollama_proxy;
    const client = new legacy.OllamaProxy(address, credentials);
    const { res } = await unary(client, 'Generate', request('llama3.2:1b', { prompt: 'legacy' }));
    assert.equal(res.response, 'echo: legacy');
    assert.equal(res.backend_used, 'ollama-npu');
    const stream = await collect(client.GenerateStream(request('llama3.2:1b'), { deadline: deadline(10000) }));
    assert.equal(stream.messages.at(-1).done, true);
    assert.equal(stream.messages.slice(0, -1).map((m) => m.token).join(''), 'Hello, world');
    return res;
  },

  async errors() {
    const client = new compute.ComputeService(address, credentials);
    const s = grpc.status;
    await expectStatus(unary(client, 'Generate', request('missing')), s.NOT_FOUND, "model 'missing'");
    await expectStatus(unary(client, 'Generate', request('busy')), s.RESOURCE_EXHAUSTED, 'queue is full');
    await expectStatus(unary(client, 'Generate', request('unknown-target')), s.INVALID_ARGUMENT, 'tpu');
    await expectStatus(unary(client, 'Generate', request('no-backend')), s.UNAVAILABLE, 'power budget');
    await expectStatus(unary(client, 'Generate', request('bad-request')), s.INVALID_ARGUMENT, 'invalid option');
    const internal = await expectStatus(unary(client, 'Generate', request('throws')), s.INTERNAL);
    assert.ok(!internal.details.includes('secret'), `INTERNAL leaked: ${internal.details}`);
    await expectStatus(unary(client, 'Generate', request('x', { annotations: { priority: 9 } })), s.INVALID_ARGUMENT, 'annotations.priority');
    await expectStatus(unary(client, 'Generate', request('x', { annotations: { max_latency_ms: -5 } })), s.INVALID_ARGUMENT, 'annotations.max_latency_ms');
    await expectStatus(unary(client, 'Generate', request('')), s.INVALID_ARGUMENT, 'model');
    const broken = await expectStatus(collect(client.GenerateStream(request('broken-stream'))), s.UNAVAILABLE, 'connection reset');
    assert.deepEqual(broken.messages.map((m) => m.token), ['partial']);
    await expectStatus(collect(client.GenerateStream(request('missing'))), s.NOT_FOUND);
    // Non-ASCII, '%' and a newline in grpc-message survive percent-encoding.
    const unicode = await expectStatus(unary(client, 'Generate', request('unicode')), s.NOT_FOUND);
    assert.equal(unicode.details, 'Modell «llama» fehlt: 100% belegt\nbitte später');
    return { ok: true };
  },

  async cancel() {
    const client = new compute.ComputeService(address, credentials);
    const call = client.GenerateStream(request('hang'));
    const err = await new Promise((resolve) => {
      call.on('data', (m) => { if (m.token === 'first') call.cancel(); });
      call.on('error', resolve);
      call.on('end', () => resolve(null));
    });
    assert.ok(err, 'the stream ended instead of being cancelled');
    assert.equal(err.code, grpc.status.CANCELLED);
    return { code: err.code };
  },

  async deadline() {
    const client = new compute.ComputeService(address, credentials);
    // Connected first: on a loaded machine the connection alone can take longer than the deadline,
    // and grpc-js then fails the call itself, before the server has seen it.
    await unary(client, 'Generate', request('llama3.2:1b'));
    await expectStatus(unary(client, 'Generate', request('hang'), { deadline: deadline(1000) }), grpc.status.DEADLINE_EXCEEDED);
    return { ok: true };
  },

  async oversized() {
    const client = new compute.ComputeService(address, credentials);
    const big = 'x'.repeat(100 * 1024);
    await expectStatus(unary(client, 'Generate', request('llama3.2:1b', { prompt: big })), grpc.status.RESOURCE_EXHAUSTED, 'larger than max');
    return { ok: true };
  },

  async gzip() {
    const client = new compute.ComputeService(address, credentials, { 'grpc.default_compression_algorithm': 2 });
    const prompt = 'compress me '.repeat(200);
    // grpc-js removes grpc-encoding from the metadata it shows; the test checks the wire server-side.
    const { res } = await unary(client, 'Generate', request('llama3.2:1b', { prompt }));
    assert.equal(res.response, 'echo: ' + prompt);
    const stream = await collect(client.GenerateStream(request('llama3.2:1b', { prompt })));
    assert.equal(stream.messages.at(-1).done, true);
    // A compressed request larger than the limit once inflated is refused.
    const huge = 'a'.repeat(100 * 1024);
    await expectStatus(unary(client, 'Generate', request('llama3.2:1b', { prompt: huge })), grpc.status.RESOURCE_EXHAUSTED);
    return { ok: true };
  },

  async unimplemented() {
    const client = new grpc.Client(address, credentials);
    const identity = (x) => x;
    const call = (method) => new Promise((resolve, reject) => {
      client.makeUnaryRequest(method, identity, identity, Buffer.alloc(0), (err, res) => (err ? reject(err) : resolve(res)));
    });
    await expectStatus(call('/compute.v1.ComputeService/Nope'), grpc.status.UNIMPLEMENTED, 'Method is unimplemented');
    await expectStatus(call('/nope.v1.Missing/Call'), grpc.status.UNIMPLEMENTED, 'Service is unimplemented');
    return { ok: true };
  },

  async reflection() {
    // v1alpha through grpc-reflection-js, as reflection clients use it.
    const client = new reflectionJs.Client(address, credentials);
    const services = await client.listServices();
    for (const name of ['compute.v1.ComputeService', 'compute.v1.EfficiencyService', 'ollama_proxy.OllamaProxy',
      'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']) {
      assert.ok(services.includes(name), `${name} not listed: ${services}`);
    }
    const root = await client.fileContainingSymbol('compute.v1.ComputeService');
    const service = root.lookupService('compute.v1.ComputeService');
    assert.deepEqual(Object.keys(service.methods).sort(),
      ['Chat', 'ChatStream', 'Embed', 'Generate', 'GenerateStream', 'HealthCheck', 'ListBackends']);
    assert.equal(service.methods.GenerateStream.responseStream, true);
    const annotations = root.lookupType('compute.v1.JobAnnotations');
    assert.equal(annotations.fields.priority.id, 8);
    // The dependency comes along: ollama_proxy imports compute.v1.
    const legacyRoot = await client.fileByFilename('ollama_proxy/ollama_proxy.proto');
    assert.equal(legacyRoot.lookupService('ollama_proxy.OllamaProxy').methods.Generate.requestType, '.compute.v1.GenerateRequest');
    assert.ok(legacyRoot.lookupType('compute.v1.GenerateRequest'));

    // v1 with a plain client over the standard proto.
    const v1 = load('grpc/reflection/v1/reflection.proto').grpc.reflection.v1;
    const stub = new v1.ServerReflection(address, credentials);
    const call = stub.ServerReflectionInfo();
    const answers = [];
    const done = new Promise((resolve, reject) => { call.on('data', (m) => answers.push(m)); call.on('end', resolve); call.on('error', reject); });
    call.write({ list_services: '' });
    call.write({ file_containing_symbol: 'compute.v1.EfficiencyService' });
    call.write({ file_containing_symbol: 'no.such.Symbol' });
    call.write({ file_by_filename: 'grpc/health/v1/health.proto' });
    call.end();
    await done;
    assert.equal(answers.length, 4);
    assert.ok(answers[0].list_services_response.service.some((s) => s.name === 'compute.v1.EfficiencyService'));
    const file = descriptor.FileDescriptorProto.decode(answers[1].file_descriptor_response.file_descriptor_proto[0]);
    assert.equal(file.name, 'compute/v1/efficiency.proto');
    assert.equal(file.package, 'compute.v1');
    assert.equal(answers[2].error_response.error_code, grpc.status.NOT_FOUND);
    const health = descriptor.FileDescriptorProto.decode(answers[3].file_descriptor_response.file_descriptor_proto[0]);
    assert.equal(health.service[0].name, 'Health');
    return { services };
  },

  async health() {
    const health = load('grpc/health/v1/health.proto').grpc.health.v1;
    const client = new health.Health(address, credentials);
    assert.equal((await unary(client, 'Check', { service: '' })).res.status, 'SERVING');
    assert.equal((await unary(client, 'Check', { service: 'compute.v1.ComputeService' })).res.status, 'SERVING');
    assert.equal((await unary(client, 'Check', { service: 'grpc.health.v1.Health' })).res.status, 'SERVING');
    await expectStatus(unary(client, 'Check', { service: 'nope.Service' }), grpc.status.NOT_FOUND);
    const watch = client.Watch({ service: 'nope.Service' });
    const first = await new Promise((resolve, reject) => { watch.once('data', resolve); watch.once('error', reject); });
    assert.equal(first.status, 'SERVICE_UNKNOWN');
    watch.cancel();
    return { ok: true };
  },

  // Against the real router (RouterRuntime) over a simulated device.
  async 'real-router'() {
    const client = new compute.ComputeService(address, credentials);
    const { res } = await unary(client, 'Generate', request('llama3.2:1b', { options: { max_tokens: 8 } }));
    assert.ok(res.response.length > 0, 'empty answer');
    assert.equal(res.backend_used, 'sim-nvidia');
    assert.equal(res.routing.backend, 'sim-nvidia');
    assert.ok(res.stats.tokens_generated > 0, `stats: ${JSON.stringify(res.stats)}`);
    const { messages } = await collect(client.GenerateStream(request('llama3.2:1b', { options: { max_tokens: 8 } }), { deadline: deadline(20000) }));
    assert.ok(messages.length >= 2, `only ${messages.length} messages`);
    assert.equal(messages.at(-1).done, true);
    assert.equal(messages.at(-1).backend_used, 'sim-nvidia');
    const chat = (await unary(client, 'Chat', { model: 'llama3.2:1b', messages: [{ role: 'user', content: 'hi' }], options: { max_tokens: 4 } })).res;
    assert.ok(chat.message.content.length > 0);
    const embed = (await unary(client, 'Embed', { model: 'nomic-embed-text', text: 'hello' })).res;
    assert.ok(embed.embedding.length > 0);
    await expectStatus(unary(client, 'Generate', request('no-such-model:7b')), grpc.status.NOT_FOUND);
    await expectStatus(unary(client, 'Generate', request('llama3.2:1b', { annotations: { target: 'tpu' } })), grpc.status.INVALID_ARGUMENT);
    const backends = (await unary(client, 'ListBackends', {})).res.backends;
    assert.deepEqual(backends.map((b) => b.id), ['sim-nvidia']);
    // Cancel a long answer after its first token; the test checks the device stops generating.
    const call = client.GenerateStream(request('llama3.2:1b', { options: { max_tokens: 400 } }));
    const err = await new Promise((resolve) => {
      call.once('data', () => call.cancel());
      call.on('error', resolve);
      call.on('end', () => resolve(null));
    });
    assert.equal(err?.code, grpc.status.CANCELLED);
    return { response: res.response, streamed: messages.length };
  },

  // Interactive: the test changes the status once it sees the first line.
  async 'health-watch'() {
    const health = load('grpc/health/v1/health.proto').grpc.health.v1;
    const client = new health.Health(address, credentials);
    const watch = client.Watch({ service: 'compute.v1.ComputeService' });
    watch.on('error', () => {});
    const seen = [];
    await new Promise((resolve) => {
      watch.on('data', (m) => {
        seen.push(m.status);
        console.log(`status ${m.status}`);
        if (m.status === 'NOT_SERVING') resolve();
      });
    });
    watch.cancel();
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
    return { seen };
  },

  async efficiency() {
    const client = new efficiency.EfficiencyService(address, credentials);
    const mode = (await unary(client, 'GetMode', {})).res;
    assert.equal(mode.mode, 'EFFICIENCY_MODE_BALANCED');
    await expectStatus(unary(client, 'SetMode', { mode: 'EFFICIENCY_MODE_UNSPECIFIED' }), grpc.status.INVALID_ARGUMENT, 'mode');
    const watch = client.WatchState({});
    watch.on('error', () => {});
    const updates = [];
    await new Promise((resolve, reject) => {
      watch.on('data', async (u) => {
        updates.push(u);
        if (updates.length === 1) {
          try {
            const set = (await unary(client, 'SetMode', { mode: 'EFFICIENCY_MODE_AUTO' })).res;
            assert.equal(set.effective_mode, 'EFFICIENCY_MODE_EFFICIENCY');
            assert.equal(set.reason, 'on-battery');
          } catch (e) { reject(e); }
        } else {
          resolve();
        }
      });
    });
    watch.cancel();
    assert.equal(updates[0].efficiency.mode, 'EFFICIENCY_MODE_BALANCED');
    assert.equal(updates[0].battery_percent, 81);
    assert.equal(updates[1].efficiency.mode, 'EFFICIENCY_MODE_AUTO');
    assert.equal(updates[1].efficiency.effective_mode, 'EFFICIENCY_MODE_EFFICIENCY');
    return { updates: updates.length };
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
