// Drives the router's OpenAI-compatible surface with the official `openai` npm package.
// Usage: node http-openai.mjs http://127.0.0.1:PORT   (run by Router.Tests; prints "ok <check>" per check)
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const base = process.argv[2];
if (!base) throw new Error('usage: node http-openai.mjs <base-url>');
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 15_000 });

async function check(name, body) {
  await body();
  console.log(`ok ${name}`);
}

await check('chat', async () => {
  const { data, response } = await client.chat.completions
    .create(
      { model: 'llama3.2', messages: [{ role: 'user', content: 'Say hello' }], seed: 7, max_tokens: 16 },
      { headers: { 'X-Latency-Critical': 'true', 'X-Request-ID': 'node-openai-1' } },
    )
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.content, 'Hello, world!');
  assert.equal(data.usage.completion_tokens, 4);
  assert.equal(response.headers.get('x-backend-used'), 'ollama-nvidia');
  assert.equal(response.headers.get('x-routing-reason'), 'latency-critical');
  assert.equal(response.headers.get('x-request-id'), 'node-openai-1');
});

await check('chat streaming with usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'llama3.2',
    messages: [{ role: 'user', content: 'Say hello' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.choices.length > 0) text += chunk.choices[0].delta.content ?? '';
    if (chunk.usage) {
      assert.equal(chunk.choices.length, 0);
      usage = chunk.usage;
    }
  }
  assert.equal(text, 'Hello, world!');
  assert.ok(chunks >= 5, `expected at least 5 chunks, got ${chunks}`);
  assert.deepEqual(usage, { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
});

await check('completions', async () => {
  const completion = await client.completions.create({ model: 'llama3.2', prompt: 'Once upon', max_tokens: 8 });
  assert.equal(completion.object, 'text_completion');
  assert.equal(completion.choices[0].text, 'Hello, world!');
  assert.equal(completion.usage.total_tokens, 16);
});

await check('completions streaming', async () => {
  const stream = await client.completions.create({ model: 'llama3.2', prompt: 'Once upon', stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, 'Hello, world!');
});

await check('embeddings', async () => {
  const result = await client.embeddings.create({ model: 'nomic-embed-text', input: ['hello', 'world'] });
  assert.equal(result.data.length, 2);
  assert.deepEqual(Array.from(result.data[1].embedding), [0.25, -0.5, 0.125, 1]);
  assert.equal(result.usage.prompt_tokens, 8);
});

await check('models', async () => {
  const ids = [];
  let llama = null;
  for await (const model of client.models.list()) {
    ids.push(model.id);
    if (model.id === 'llama3.2:latest') llama = model;
  }
  assert.ok(ids.includes('qwen2.5:0.5b'), ids.join(','));
  assert.deepEqual(llama.backends, ['ollama-cpu', 'ollama-igpu', 'ollama-nvidia']);
  assert.equal(llama.owned_by, 'ollama-proxy');
});

await check('error: model on no backend', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'missing-model', messages: [{ role: 'user', content: 'hi' }] }),
    (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, String(error));
      assert.equal(error.status, 404);
      assert.equal(error.code, 'model_not_found');
      assert.match(error.message, /No healthy backend holds the model 'missing-model'/);
      return true;
    },
  );
});

await check('error: queue full', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'busy', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    (error) => {
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.headers.get('retry-after'), '2');
      return true;
    },
  );
});

await check('error: invalid header', async () => {
  await assert.rejects(
    client.chat.completions.create(
      { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'X-Priority': 'urgent' } },
    ),
    (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.param, 'X-Priority');
      return true;
    },
  );
});

await check('error: stream breaks after it started', async () => {
  const stream = await client.chat.completions.create({
    model: 'breaks-midway',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  let text = '';
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })(),
    /closed the connection mid-answer/,
  );
  assert.equal(text, 'Hello,');
});
