// Drives the router's WebSocket stream (/v1/stream/ws) with the `ws` package.
// Usage: node http-ws.mjs http://127.0.0.1:PORT   (run by Router.Tests; prints "ok <check>" per check)
import { connect as connectSession, isEnd, streamUrl, withTimeout as within } from './ws-session.mjs';
import assert from 'node:assert/strict';

const base = process.argv[2];
if (!base) throw new Error('usage: node http-ws.mjs <base-url>');
const url = streamUrl(base);
const PATIENCE_MS = 15_000;

async function check(name, body) {
  await body();
  console.log(`ok ${name}`);
}

const connect = () => connectSession(url, PATIENCE_MS);
const withPatience = (promise, what) => within(promise, what, PATIENCE_MS);

await check('several requests on one socket', async () => {
  const c = await connect();
  c.send({ request_id: 'gen', model: 'llama3.2', prompt: 'Why is the sky blue?', options: { num_predict: 32 } });
  c.send({ request_id: 'chat', model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], priority: 'high', latency_critical: true });
  c.send({ request_id: 'whole', model: 'llama3.2', prompt: 'hi', stream: false, target: 'npu', max_power_watts: 5 });
  const [gen, chat, whole] = await Promise.all(['gen', 'chat', 'whole'].map((id) => c.wait(id, isEnd)));
  for (const [id, done] of [['gen', gen], ['chat', chat], ['whole', whole]]) {
    assert.equal(done.done, true, JSON.stringify(done));
    const tokens = c.frames(id).filter((f) => f.token !== undefined);
    assert.equal(tokens.map((f) => f.token).join(''), 'Hello, world!');
    assert.equal(typeof tokens[0].ttft_ms, 'number');
    assert.ok(tokens.slice(1).every((f) => f.ttft_ms === undefined), 'ttft_ms only on the first token');
    assert.equal(typeof done.stats.time_to_first_token_ms, 'number');
    assert.equal(typeof done.stats.total_time_ms, 'number');
    assert.equal(typeof done.stats.tokens_per_second, 'number');
    assert.equal(typeof done.stats.energy_wh, 'number');
    assert.equal(done.routing.backend, done.backend_used);
    assert.ok(Array.isArray(done.routing.alternatives));
    assert.equal(typeof done.routing.estimated_latency_ms, 'number');
    assert.equal(typeof done.routing.estimated_power_w, 'number');
  }
  assert.equal(gen.stats.tokens_generated, 4);
  assert.equal(chat.backend_used, 'ollama-nvidia');
  assert.equal(chat.routing.reason, 'latency-critical');
  assert.equal(whole.backend_used, 'ollama-npu');
  assert.equal(c.frames('whole').filter((f) => f.token !== undefined).length, 1, 'stream:false is one token frame');
  c.socket.close(1000);
  assert.equal((await withPatience(c.closed, 'close')).code, 1000);
});

await check('cancel one request, the others go on', async () => {
  const c = await connect();
  c.send({ request_id: 'long', model: 'slow', prompt: 'count forever' });
  await c.wait('long', (f) => f.token !== undefined);
  c.send({ request_id: 'long', cancel: true });
  const ended = await c.wait('long', isEnd);
  assert.equal(ended.cancelled, true, JSON.stringify(ended));
  c.send({ request_id: 'after', model: 'llama3.2', prompt: 'hi' });
  assert.equal((await c.wait('after', isEnd)).done, true);
  c.socket.close(1000);
  await withPatience(c.closed, 'close');
});

await check('a request error is a frame; the socket stays open', async () => {
  const c = await connect();
  c.send({ request_id: 'nomodel', prompt: 'hi' });
  c.send({ request_id: 'missing', model: 'missing-model', prompt: 'hi' });
  c.send({ request_id: 'badprio', model: 'llama3.2', prompt: 'hi', priority: 'urgent' });
  const nomodel = await c.wait('nomodel', isEnd);
  assert.equal(nomodel.code, 400);
  assert.match(nomodel.error, /'model' is required/);
  const missing = await c.wait('missing', isEnd);
  assert.equal(missing.code, 404);
  assert.match(missing.error, /No healthy backend holds the model 'missing-model'/);
  const badprio = await c.wait('badprio', isEnd);
  assert.equal(badprio.code, 400);
  assert.match(badprio.error, /priority/);
  c.send({ request_id: 'ok', model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((await c.wait('ok', isEnd)).done, true);
  c.socket.close(1000);
  await withPatience(c.closed, 'close');
});

await check('not JSON closes with 1007', async () => {
  const c = await connect();
  c.socket.send('hello?');
  const { code, reason } = await withPatience(c.closed, 'close');
  assert.equal(code, 1007);
  assert.match(reason, /not valid JSON/);
});

await check('no request_id closes with 1007', async () => {
  const c = await connect();
  c.send({ model: 'llama3.2', prompt: 'hi' });
  const { code, reason } = await withPatience(c.closed, 'close');
  assert.equal(code, 1007);
  assert.match(reason, /request_id/);
});

await check('binary frame closes with 1007', async () => {
  const c = await connect();
  c.socket.send(Buffer.from([1, 2, 3]), { binary: true });
  const { code, reason } = await withPatience(c.closed, 'close');
  assert.equal(code, 1007);
  assert.match(reason, /binary/);
});
