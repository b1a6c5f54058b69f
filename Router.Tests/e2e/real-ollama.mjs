// The official `ollama` npm package against the real daemon (router in front of the simulated devices).
// Usage: node real-ollama.mjs http://127.0.0.1:PORT   (run by Router.Tests.EndToEnd; prints "ok <check>"
// per check, "FAIL <check>: …" for each failure, and exits 1 if any failed).
import { Ollama } from 'ollama';
import assert from 'node:assert/strict';
import { check } from './checks.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: node real-ollama.mjs <base-url>');
const ollama = new Ollama({ host: base });
const BACKENDS = ['ollama-npu', 'ollama-igpu', 'ollama-nvidia', 'ollama-cpu'];
const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

await check('chat', async () => {
  const response = await ollama.chat({ model: 'llama3.2:1b', messages, stream: false, options: { num_predict: 9 } });
  assert.equal(response.model, 'llama3.2:1b');
  assert.equal(response.message.role, 'assistant');
  assert.ok(response.message.content.trim().length > 0, 'empty answer');
  assert.equal(response.done, true);
  assert.equal(response.eval_count, 9);
  assert.ok(response.total_duration > 0, `total_duration ${response.total_duration}`);
});

await check('chat streaming', async () => {
  let text = '';
  let parts = 0;
  let last = null;
  for await (const part of await ollama.chat({ model: 'llama3.2:1b', messages, stream: true, options: { num_predict: 12 } })) {
    parts++;
    if (last) assert.equal(last.done, false, 'only the last part is done');
    text += part.message.content;
    last = part;
  }
  assert.ok(text.trim().length > 0, 'no text streamed');
  assert.ok(parts >= 5, `expected several parts, got ${parts}`);
  assert.equal(last.done, true);
  assert.equal(last.eval_count, 12);
  assert.ok(last.done_reason, 'no done_reason');
});

await check('generate', async () => {
  const response = await ollama.generate({ model: 'qwen2.5:0.5b', prompt: 'Why is the sky blue?', stream: false, options: { num_predict: 7 } });
  assert.ok(response.response.trim().length > 0, 'empty answer');
  assert.equal(response.done, true);
  assert.equal(response.eval_count, 7);
});

await check('generate streaming', async () => {
  let text = '';
  let parts = 0;
  let last = null;
  for await (const part of await ollama.generate({ model: 'qwen2.5:0.5b', prompt: 'Why?', stream: true })) {
    parts++;
    text += part.response;
    last = part;
  }
  assert.ok(text.trim().length > 0, 'no text streamed');
  assert.ok(parts >= 5, `expected several parts, got ${parts}`);
  assert.equal(last.done, true);
  assert.equal(last.eval_count, 24, 'the simulator answers 24 tokens by default');
});

await check('tags: the union of the backends\' models', async () => {
  const { models } = await ollama.list();
  const names = models.map((m) => m.name);
  assert.equal(new Set(names).size, names.length, `duplicates in ${names.join(',')}`);
  for (const name of ['llama3.2:1b', 'qwen2.5:0.5b']) assert.ok(names.includes(name), `${name} not in ${names.join(',')}`);
  assert.ok(names.some((n) => n.startsWith('nomic-embed-text')), `nomic-embed-text not in ${names.join(',')}`);
  const llama = models.find((m) => m.name === 'llama3.2:1b');
  assert.ok(llama.size > 0 && llama.digest, 'size and digest');
  assert.equal(llama.details.family, 'llama');
  assert.deepEqual([...llama.backends].sort(), [...BACKENDS].sort());
});

await check('embed', async () => {
  const response = await ollama.embed({ model: 'nomic-embed-text', input: ['the sky is blue', 'the grass is green'] });
  assert.equal(response.embeddings.length, 2);
  assert.ok(response.embeddings[0].length > 0, 'empty vector');
  assert.equal(response.embeddings[0].length, response.embeddings[1].length);
  assert.notDeepEqual(response.embeddings[0], response.embeddings[1]);
});

await check('embeddings (legacy)', async () => {
  const response = await ollama.embeddings({ model: 'nomic-embed-text', prompt: 'the sky is blue' });
  assert.ok(response.embedding.length > 0, 'empty vector');
});

await check('show', async () => {
  const show = await ollama.show({ model: 'qwen2.5:0.5b' });
  assert.equal(show.details.family, 'qwen2');
  assert.equal(show.details.format, 'gguf');
});

await check('ps', async () => {
  const ps = await ollama.ps();
  assert.ok(Array.isArray(ps.models), 'models array');
  // Models were just used, so some device has one loaded.
  assert.ok(ps.models.length >= 1, `nothing loaded: ${JSON.stringify(ps)}`);
  for (const m of ps.models) assert.ok(m.name && m.expires_at !== undefined, JSON.stringify(m));
});

await check('load: an empty prompt loads the model (as `ollama run` preloads)', async () => {
  const response = await ollama.generate({ model: 'qwen2.5:0.5b', prompt: '' });
  assert.equal(response.done, true);
  assert.equal(response.done_reason, 'load');
  assert.equal(response.response, '');
  const { models } = await ollama.ps();
  assert.ok(models.some((m) => m.name === 'qwen2.5:0.5b'), `qwen2.5:0.5b not loaded: ${JSON.stringify(models)}`);
});

await check('unload: keep_alive 0 unloads the model from every backend (as `ollama stop` does)', async () => {
  const response = await ollama.generate({ model: 'qwen2.5:0.5b', prompt: '', keep_alive: 0 });
  assert.equal(response.done, true);
  assert.equal(response.done_reason, 'unload');
  const { models } = await ollama.ps();
  assert.ok(!models.some((m) => m.name === 'qwen2.5:0.5b'), `qwen2.5:0.5b still loaded: ${JSON.stringify(models)}`);
});

await check('unload through chat: no messages and keep_alive 0', async () => {
  const response = await ollama.chat({ model: 'llama3.2:1b', messages: [], keep_alive: 0 });
  assert.equal(response.done_reason, 'unload');
  assert.equal(response.message.content, '');
  const { models } = await ollama.ps();
  assert.ok(!models.some((m) => m.name === 'llama3.2:1b'), `llama3.2:1b still loaded: ${JSON.stringify(models)}`);
});

await check('version', async () => {
  const { version } = await ollama.version();
  assert.match(version, /^\d+\.\d+\.\d+/);
});

await check('error: model on no backend', async () => {
  await assert.rejects(ollama.chat({ model: 'missing-model:7b', messages, stream: false }), (error) => {
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 404);
    assert.match(error.error, /missing-model:7b/);
    return true;
  });
});

await check('error: model on no backend, streaming', async () => {
  await assert.rejects(
    (async () => {
      for await (const part of await ollama.generate({ model: 'missing-model:7b', prompt: 'hi', stream: true })) void part;
    })(),
    (error) => {
      assert.equal(error.name, 'ResponseError');
      assert.equal(error.status_code, 404);
      assert.match(error.message, /missing-model:7b/);
      return true;
    },
  );
});

// Ollama itself answers a known option of the wrong type with a 500, which the router would take
// for a failing device; the router answers it with a 400 naming the option.
await check('error: an option of the wrong type names it', async () => {
  await assert.rejects(ollama.generate({ model: 'llama3.2:1b', prompt: 'hi', stream: false, options: { stop: '\n' } }), (error) => {
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 400);
    assert.match(error.error, /options\.stop/);
    return true;
  });
});
