// The official clients against a router that requires an API key: the openai package's apiKey,
// the ollama package's headers, and a WebSocket that offers the key as a subprotocol, as a
// browser must. Usage: node http-keys.mjs http://127.0.0.1:PORT KEY   (run by Router.Tests;
// prints "ok <check>" per check, "FAIL <check>: …" for each failure, and exits 1 if any failed).
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import WebSocket from 'ws';
import assert from 'node:assert/strict';
import { check } from './checks.mjs';

const [base, key] = process.argv.slice(2);
if (!base || !key) throw new Error('usage: node http-keys.mjs <base-url> <key>');
const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

await check('openai: apiKey', async () => {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: 'llama3.2', messages });
  assert.equal(completion.choices[0].message.content, 'Hello, world!');
});

await check('openai: wrong apiKey is an AuthenticationError', async () => {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-the-key-0123456789', maxRetries: 0 });
  await assert.rejects(client.chat.completions.create({ model: 'llama3.2', messages }), (error) => {
    assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.code, 'invalid_api_key');
    return true;
  });
});

await check('ollama: Authorization header', async () => {
  const ollama = new Ollama({ host: base, headers: { Authorization: `Bearer ${key}` } });
  const response = await ollama.chat({ model: 'llama3.2', messages, stream: false });
  assert.equal(response.message.content, 'Hello, world!');
  let text = '';
  for await (const part of await ollama.generate({ model: 'llama3.2', prompt: 'hi', stream: true })) text += part.response;
  assert.equal(text, 'Hello, world!');
});

await check('ollama: no key is a 401 naming what to send', async () => {
  const ollama = new Ollama({ host: base });
  await assert.rejects(ollama.chat({ model: 'llama3.2', messages, stream: false }), (error) => {
    assert.equal(error.status_code, 401, String(error));
    assert.match(error.error, /Authorization: Bearer/);
    return true;
  });
});

function openSocket(protocols, options) {
  const url = base.replace(/^http/, 'ws') + '/v1/stream/ws';
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options);
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (request, response) => {
      // ws leaves a refused handshake's connection open for whoever listens to this event.
      request.destroy();
      reject(Object.assign(new Error(`handshake ${response.statusCode}`), { status: response.statusCode }));
    });
    socket.once('error', reject);
  });
}

await check('websocket: the key as a subprotocol, as a browser sends it', async () => {
  const socket = await openSocket(['ollama-proxy', `bearer.${key}`]);
  assert.equal(socket.protocol, 'ollama-proxy');
  const frames = [];
  const done = new Promise((resolve) => socket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    frames.push(frame);
    if (frame.done || frame.error) resolve(frame);
  }));
  socket.send(JSON.stringify({ request_id: 'k', model: 'llama3.2', prompt: 'hi' }));
  assert.equal((await done).done, true);
  assert.equal(frames.filter((f) => f.token !== undefined).map((f) => f.token).join(''), 'Hello, world!');
  socket.close(1000);
});

await check('websocket: without a key the handshake is a 401', async () => {
  await assert.rejects(openSocket(['ollama-proxy']), (error) => error.status === 401);
  await assert.rejects(openSocket(['ollama-proxy', 'bearer.not-the-key-0123456789']), (error) => error.status === 401);
});
