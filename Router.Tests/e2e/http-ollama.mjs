// Drives the router's Ollama-native surface with the official `ollama` npm package.
// Usage: node http-ollama.mjs http://127.0.0.1:PORT   (run by Router.Tests; prints "ok <check>" per check)
import { Ollama } from 'ollama';
import assert from 'node:assert/strict';

const base = process.argv[2];
if (!base) throw new Error('usage: node http-ollama.mjs <base-url>');
const ollama = new Ollama({ host: base });
const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

async function check(name, body) {
  await body();
  console.log(`ok ${name}`);
}

await check('chat', async () => {
  const response = await ollama.chat({ model: 'llama3.2', messages, stream: false, options: { num_predict: 16 } });
  assert.equal(response.message.role, 'assistant');
  assert.equal(response.message.content, 'Hello, world!');
  assert.equal(response.done, true);
  assert.equal(response.eval_count, 4);
});

await check('chat streaming', async () => {
  let text = '';
  let parts = 0;
  let last = null;
  for await (const part of await ollama.chat({ model: 'llama3.2', messages, stream: true })) {
    parts++;
    text += part.message.content;
    last = part;
  }
  assert.equal(text, 'Hello, world!');
  assert.equal(parts, 5);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
});

await check('generate', async () => {
  const response = await ollama.generate({ model: 'llama3.2', prompt: 'Why is the sky blue?', stream: false });
  assert.equal(response.response, 'Hello, world!');
  assert.equal(response.done, true);
});

await check('generate streaming', async () => {
  let text = '';
  for await (const part of await ollama.generate({ model: 'llama3.2', prompt: 'Why?', stream: true })) text += part.response;
  assert.equal(text, 'Hello, world!');
});

await check('tags', async () => {
  const { models } = await ollama.list();
  const names = models.map((m) => m.name);
  assert.equal(new Set(names).size, names.length, 'no duplicates');
  for (const name of ['llama3.2:latest', 'llama3.2:1b', 'qwen2.5:0.5b', 'llama3.1:8b', 'nomic-embed-text:latest']) {
    assert.ok(names.includes(name), `${name} in ${names.join(',')}`);
  }
  assert.equal(models.find((m) => m.name === 'qwen2.5:0.5b').details.quantization_level, 'Q8_0');
});

await check('embed', async () => {
  const response = await ollama.embed({ model: 'nomic-embed-text', input: ['one', 'two'] });
  assert.equal(response.embeddings.length, 2);
  assert.deepEqual(response.embeddings[0], [0.25, -0.5, 0.125, 1]);
});

await check('embeddings (legacy)', async () => {
  const response = await ollama.embeddings({ model: 'nomic-embed-text', prompt: 'one' });
  assert.deepEqual(response.embedding, [0.25, -0.5, 0.125, 1]);
});

await check('ps, show, version', async () => {
  const ps = await ollama.ps();
  assert.ok(ps.models.length >= 1);
  const show = await ollama.show({ model: 'qwen2.5:0.5b' });
  assert.equal(show.details.format, 'gguf');
  const { version } = await ollama.version();
  assert.equal(version, '0.12.6');
});

await check('error: model on no backend', async () => {
  await assert.rejects(ollama.chat({ model: 'missing-model', messages, stream: false }), (error) => {
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 404);
    assert.match(error.error, /No healthy backend holds the model 'missing-model'/);
    return true;
  });
});

await check('error: streaming request refused', async () => {
  await assert.rejects(ollama.generate({ model: 'busy', prompt: 'hi', stream: true }), (error) => {
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 429);
    assert.match(error.message, /queue for priority normal is full/);
    return true;
  });
});

await check('error: missing field', async () => {
  await assert.rejects(ollama.embed({ model: 'nomic-embed-text' }), (error) => {
    assert.equal(error.status_code, 400);
    assert.match(error.message, /'input' is required/);
    return true;
  });
});

await check('error: stream breaks after it started', async () => {
  let text = '';
  const stream = await ollama.chat({ model: 'breaks-midway', messages, stream: true });
  await assert.rejects(
    (async () => {
      for await (const part of stream) text += part.message.content;
    })(),
    /closed the connection mid-answer/,
  );
  assert.equal(text, 'Hello,');
});
