// The official `openai` npm package against the real daemon (router in front of the simulated devices).
// Usage: node real-openai.mjs http://127.0.0.1:PORT   (run by Router.Tests.EndToEnd; prints "ok <check>"
// per check, "FAIL <check>: …" for each failure, and exits 1 if any failed).
import OpenAI from 'openai';
import assert from 'node:assert/strict';
import { check } from './checks.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: node real-openai.mjs <base-url>');
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
const BACKENDS = ['ollama-npu', 'ollama-igpu', 'ollama-nvidia', 'ollama-cpu'];
const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

function assertRoutedHeaders(headers) {
  assert.ok(BACKENDS.includes(headers.get('x-backend-used')), `x-backend-used: ${headers.get('x-backend-used')}`);
  assert.ok(headers.get('x-routing-reason'), 'x-routing-reason missing');
  assert.ok(Number(headers.get('x-estimated-latency-ms')) > 0, `x-estimated-latency-ms: ${headers.get('x-estimated-latency-ms')}`);
  assert.ok(Number(headers.get('x-estimated-power-w')) > 0, `x-estimated-power-w: ${headers.get('x-estimated-power-w')}`);
  assert.ok(headers.get('x-alternatives') !== null, 'x-alternatives missing');
}

await check('chat', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'llama3.2:1b', messages, max_tokens: 12 }, { headers: { 'X-Request-ID': 'real-openai-chat-1' } })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices.length, 1);
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.ok(data.choices[0].message.content.trim().length > 0, 'empty answer');
  assert.ok(['stop', 'length'].includes(data.choices[0].finish_reason), data.choices[0].finish_reason);
  assert.equal(data.usage.completion_tokens, 12);
  assert.ok(data.usage.prompt_tokens > 0, `prompt_tokens ${data.usage.prompt_tokens}`);
  assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
  assertRoutedHeaders(response.headers);
  assert.equal(response.headers.get('x-request-id'), 'real-openai-chat-1');
});

await check('chat: request id generated when not sent', async () => {
  const { response } = await client.chat.completions.create({ model: 'qwen2.5:0.5b', messages, max_tokens: 4 }).withResponse();
  assert.ok((response.headers.get('x-request-id') ?? '').length > 0, 'no generated x-request-id');
});

await check('chat streaming with usage', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'llama3.2:1b', messages, max_tokens: 16, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assertRoutedHeaders(response.headers);
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  let text = '';
  let chunks = 0;
  let usage = null;
  let afterUsage = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks++;
    if (usage) afterUsage++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) {
      assert.deepEqual(chunk.choices, [], 'the usage chunk has empty choices');
      usage = chunk.usage;
    }
  }
  assert.ok(text.trim().length > 0, 'no text streamed');
  assert.ok(chunks >= 5, `expected several chunks, got ${chunks}`);
  assert.ok(usage, 'no usage chunk');
  assert.equal(afterUsage, 0, 'the usage chunk is the last one');
  assert.equal(usage.completion_tokens, 16);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.ok(finish, 'no finish_reason');
});

await check('chat: same request, same words (deterministic simulator through the router)', async () => {
  const ask = () => client.chat.completions.create(
    { model: 'llama3.2:1b', messages, max_tokens: 8, seed: 1 }, { headers: { 'X-Target-Backend': 'igpu' } });
  const [a, b] = [await ask(), await ask()];
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

await check('completions', async () => {
  const { data, response } = await client.completions
    .create({ model: 'qwen2.5:0.5b', prompt: 'Once upon a time', max_tokens: 10 })
    .withResponse();
  assertRoutedHeaders(response.headers);
  assert.equal(data.object, 'text_completion');
  assert.ok(data.choices[0].text.trim().length > 0, 'empty completion');
  assert.equal(data.usage.completion_tokens, 10);
});

await check('completions streaming', async () => {
  const stream = await client.completions.create({ model: 'qwen2.5:0.5b', prompt: 'Once upon a time', max_tokens: 10, stream: true });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.text ?? '';
  }
  assert.ok(text.trim().length > 0, 'no text streamed');
  assert.ok(chunks >= 3, `expected several chunks, got ${chunks}`);
});

await check('embeddings', async () => {
  const { data: result, response } = await client.embeddings
    .create({ model: 'nomic-embed-text', input: ['the sky is blue', 'the grass is green'] })
    .withResponse();
  assertRoutedHeaders(response.headers);
  assert.equal(result.object, 'list');
  assert.equal(result.data.length, 2);
  assert.deepEqual(result.data.map((d) => d.index), [0, 1]);
  const [a, b] = result.data.map((d) => Array.from(d.embedding));
  assert.ok(a.length > 0, 'empty vector');
  assert.equal(a.length, b.length);
  assert.ok(a.every(Number.isFinite) && b.every(Number.isFinite), 'non-numeric component');
  assert.notDeepEqual(a, b, 'two different inputs gave the same vector');
});

await check('models', async () => {
  const models = [];
  for await (const model of client.models.list()) models.push(model);
  const ids = models.map((m) => m.id);
  for (const id of ['llama3.2:1b', 'qwen2.5:0.5b']) assert.ok(ids.includes(id), `${id} not in ${ids.join(',')}`);
  assert.ok(ids.some((id) => id.startsWith('nomic-embed-text')), `nomic-embed-text not in ${ids.join(',')}`);
  assert.equal(new Set(ids).size, ids.length, 'duplicates');
  const llama = models.find((m) => m.id === 'llama3.2:1b');
  assert.equal(llama.object, 'model');
  assert.deepEqual([...llama.backends].sort(), [...BACKENDS].sort());
  const one = await client.models.retrieve('llama3.2:1b');
  assert.equal(one.id, 'llama3.2:1b');
});

await check('passthrough: tools, response_format, seed, stop accepted', async () => {
  const { data, response } = await client.chat.completions
    .create({
      model: 'llama3.2:1b',
      messages: [{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: 'Weather in Cork?' }],
      tools: [{
        type: 'function',
        function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      seed: 42,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['\n\n'],
      max_tokens: 6,
    })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(data.object, 'chat.completion');
  assert.ok(data.choices[0].message.content !== undefined || data.choices[0].message.tool_calls, 'no message');
});

await check('error: model on no backend', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'missing-model:7b', messages }),
    (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, String(error));
      assert.equal(error.status, 404);
      assert.match(error.message, /missing-model:7b/);
      assert.equal(error.error?.type !== undefined, true, 'OpenAI error body has a type');
      assert.ok(error.headers.get('x-request-id'), 'x-request-id on errors');
      return true;
    },
  );
});

await check('error: invalid header', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3.2:1b', messages }, { headers: { 'X-Priority': 'urgent' } }),
    (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.status, 400);
      assert.equal(error.param, 'X-Priority');
      assert.match(error.message, /X-Priority/);
      return true;
    },
  );
});

await check('error: missing messages', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'llama3.2:1b' }), (error) => {
    assert.equal(error.status, 400);
    assert.match(error.message, /messages/);
    return true;
  });
});
