// The WebSocket stream (/v1/stream/ws) of the real daemon, with the `ws` package.
// Usage: node real-ws.mjs http://127.0.0.1:PORT   (run by Router.Tests.EndToEnd; prints "ok <check>"
// per check, "FAIL <check>: …" for each failure, and exits 1 if any failed).
import WebSocket from 'ws';
import { connect as connectSession, isEnd, streamUrl, withTimeout as within } from './ws-session.mjs';
import assert from 'node:assert/strict';
import { check } from './checks.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: node real-ws.mjs <base-url>');
const url = streamUrl(base);
const BACKENDS = ['ollama-npu', 'ollama-igpu', 'ollama-nvidia', 'ollama-cpu'];
const PATIENCE_MS = 20_000;

const connect = () => connectSession(url, PATIENCE_MS);
const withPatience = (promise, what) => within(promise, what, PATIENCE_MS);

await check('several requests in flight on one socket', async () => {
  const c = await connect();
  c.send({ request_id: 'gen', model: 'llama3.2:1b', prompt: 'Why is the sky blue?', options: { num_predict: 20 } });
  c.send({ request_id: 'chat', model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'hi' }], priority: 'high', options: { num_predict: 10 } });
  c.send({ request_id: 'npu', model: 'llama3.2:1b', prompt: 'hi', target: 'npu', max_power_watts: 15, options: { num_predict: 6 } });
  const ends = await Promise.all(['gen', 'chat', 'npu'].map((id) => c.wait(id, isEnd)));
  const expected = { gen: 20, chat: 10, npu: 6 };
  for (const [i, id] of ['gen', 'chat', 'npu'].entries()) {
    const done = ends[i];
    assert.equal(done.done, true, JSON.stringify(done));
    const tokens = c.frames(id).filter((f) => f.token !== undefined);
    assert.ok(tokens.length > 1, `${id}: ${tokens.length} token frames`);
    assert.ok(tokens.map((f) => f.token).join('').trim().length > 0, `${id}: no text`);
    assert.equal(typeof tokens[0].ttft_ms, 'number');
    assert.ok(tokens[0].ttft_ms >= 0);
    assert.ok(tokens.slice(1).every((f) => f.ttft_ms === undefined), 'ttft_ms only on the first token');
    assert.equal(done.stats.tokens_generated, expected[id], `${id}: ${JSON.stringify(done.stats)}`);
    assert.ok(done.stats.total_time_ms >= done.stats.time_to_first_token_ms, JSON.stringify(done.stats));
    assert.ok(done.stats.tokens_per_second > 0, JSON.stringify(done.stats));
    assert.ok(done.stats.energy_wh >= 0, JSON.stringify(done.stats));
    assert.ok(BACKENDS.includes(done.backend_used), done.backend_used);
    assert.equal(done.routing.backend, done.backend_used);
    assert.ok(done.routing.reason, 'routing.reason');
    assert.ok(Array.isArray(done.routing.alternatives));
    assert.ok(done.routing.estimated_latency_ms > 0);
    assert.ok(done.routing.estimated_power_w > 0);
  }
  assert.equal(ends[2].backend_used, 'ollama-npu');
  c.socket.close(1000);
  assert.equal((await withPatience(c.closed, 'close')).code, 1000);
});

await check('cancel one request mid-stream, the others go on', async () => {
  const c = await connect();
  c.send({ request_id: 'long', model: 'llama3.2:1b', prompt: 'count forever', target: 'igpu', options: { num_predict: 100000 } });
  c.send({ request_id: 'short', model: 'qwen2.5:0.5b', prompt: 'hi', target: 'nvidia', options: { num_predict: 8 } });
  await c.wait('long', (f) => f.token !== undefined);
  c.send({ request_id: 'long', cancel: true });
  const ended = await c.wait('long', isEnd);
  assert.equal(ended.cancelled, true, JSON.stringify(ended));
  assert.ok(c.frames('long').filter((f) => f.token !== undefined).length < 100000);
  assert.equal((await c.wait('short', isEnd)).done, true);
  c.send({ request_id: 'after', model: 'llama3.2:1b', prompt: 'hi', target: 'igpu', options: { num_predict: 4 } });
  const after = await c.wait('after', isEnd);
  assert.equal(after.done, true, JSON.stringify(after));
  assert.equal(after.backend_used, 'ollama-igpu');
  c.socket.close(1000);
  await withPatience(c.closed, 'close');
});

await check('a request error is a frame; the socket stays open', async () => {
  const c = await connect();
  c.send({ request_id: 'missing', model: 'missing-model:7b', prompt: 'hi' });
  const missing = await c.wait('missing', isEnd);
  assert.equal(missing.code, 404, JSON.stringify(missing));
  assert.match(missing.error, /missing-model:7b/);
  // An empty conversation would reach an Ollama backend as a model load and stream nothing.
  c.send({ request_id: 'empty', model: 'llama3.2:1b', messages: [] });
  const empty = await c.wait('empty', isEnd);
  assert.equal(empty.code, 400, JSON.stringify(empty));
  assert.match(empty.error, /messages/);
  c.send({ request_id: 'ok', model: 'llama3.2:1b', messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 4 } });
  const ok = await c.wait('ok', isEnd);
  assert.equal(ok.done, true, JSON.stringify(ok));
  assert.equal(c.socket.readyState, WebSocket.OPEN);
  c.socket.close(1000);
  await withPatience(c.closed, 'close');
});

// The test checks afterwards that the slot was given back.
await check('closing the socket cancels its requests', async () => {
  const c = await connect();
  c.send({ request_id: 'endless', model: 'qwen2.5:0.5b', prompt: 'count forever', target: 'nvidia', options: { num_predict: 100000 } });
  await c.wait('endless', (f) => f.token !== undefined);
  c.socket.close(1000);
  assert.equal((await withPatience(c.closed, 'close')).code, 1000);
});

await check('malformed frame closes with 1007', async () => {
  const c = await connect();
  c.socket.send('{"request_id": "x", "model": ');
  const { code, reason } = await withPatience(c.closed, 'close');
  assert.equal(code, 1007);
  assert.ok(reason.length > 0, 'a close reason');
});
