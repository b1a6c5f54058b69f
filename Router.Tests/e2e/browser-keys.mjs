// A real browser (Debian's Chromium, driven by playwright-core) against a router that requires an
// API key. Usage: node browser-keys.mjs http://127.0.0.1:PORT KEY, against a router started with
// server.api-keys = [KEY] and server.allowed-origins = "http://allowed.test:*". A page on
// allowed.test sends the key with fetch (Authorization) and with a WebSocket (as the subprotocol
// bearer.<key>, the one way a browser's WebSocket can carry it); rebind.test stands for a site
// whose DNS name was rebound to this machine. Prints "ok <check>" per check, "FAIL <check>: …"
// for each failure, and exits 1 if any failed.
import assert from 'node:assert/strict';
import { openBrowser } from './browser-pages.mjs';
import { check } from './checks.mjs';

const [router, key] = process.argv.slice(2);
if (!router || !key) throw new Error('usage: node browser-keys.mjs <router-base-url> <key>');
const routerPort = new URL(router).port;
const wsUrl = router.replace(/^http/, 'ws') + '/v1/stream/ws';

const { browser, pageAt, close } = await openBrowser(['allowed.test', 'rebind.test']);

const chat = JSON.stringify({ model: 'llama3.2:1b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });

try {
  await check('fetch with the key answered; without it a 401 the page can read', async () => {
    const page = await pageAt('allowed.test');
    const answers = await page.evaluate(async ({ router, chat, key }) => {
      const send = async (headers) => {
        const response = await fetch(`${router}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: chat });
        return { status: response.status, body: await response.json() };
      };
      return [await send({ Authorization: `Bearer ${key}` }), await send({})];
    }, { router, chat, key });
    await page.close();
    assert.equal(answers[0].status, 200);
    assert.ok(answers[0].body.choices[0].message.content.length > 0, 'empty answer');
    assert.equal(answers[1].status, 401);
    assert.equal(answers[1].body.error.code, 'missing_api_key');
  });

  await check('WebSocket with the key as a subprotocol streams; without it does not open', async () => {
    const page = await pageAt('allowed.test');
    const outcome = await page.evaluate(({ wsUrl, key }) => {
      const open = (protocols) => new Promise((resolve) => {
        const socket = new WebSocket(wsUrl, protocols);
        socket.onerror = () => resolve({ opened: false });
        socket.onopen = () => {
          const tokens = [];
          socket.onmessage = (event) => {
            const frame = JSON.parse(event.data);
            if (frame.token !== undefined) tokens.push(frame.token);
            if (frame.done || frame.error) {
              socket.close();
              resolve({ opened: true, protocol: socket.protocol, done: frame.done === true, tokens: tokens.length });
            }
          };
          socket.send(JSON.stringify({ request_id: 'b', model: 'llama3.2:1b', prompt: 'hi', options: { num_predict: 3 } }));
        };
      });
      return Promise.all([open(['ollama-proxy', `bearer.${key}`]), open(['ollama-proxy'])]);
    }, { wsUrl, key });
    await page.close();
    assert.deepEqual(outcome[0], { opened: true, protocol: 'ollama-proxy', done: true, tokens: 3 });
    assert.equal(outcome[1].opened, false);
  });

  await check('a rebound name: the router refuses it, key or not', async () => {
    // The page of a site whose name now points at this machine, asking the router by that name.
    const page = await browser.newPage();
    const response = await page.goto(`http://rebind.test:${routerPort}/backends`);
    const body = await response.json();
    await page.close();
    assert.equal(response.status(), 403);
    assert.equal(body.error.code, 'host_not_allowed');
  });
} finally {
  await close();
}
