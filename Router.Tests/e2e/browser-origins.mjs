// A real browser (Debian's Chromium, driven by playwright-core) decides whether a web page may use
// the router. Usage: node browser-origins.mjs http://127.0.0.1:PORT, against a router started with
// server.allowed-origins = "http://allowed.test:*". Pages are served here from one local server
// under two host names the browser maps to 127.0.0.1: allowed.test (listed) and blocked.test (not).
// Prints "ok <check>" per check, "FAIL <check>: …" for each failure, and exits 1 if any failed.
import assert from 'node:assert/strict';
import { openBrowser } from './browser-pages.mjs';
import { check } from './checks.mjs';

const router = process.argv[2];
if (!router) throw new Error('usage: node browser-origins.mjs <router-base-url>');
const wsUrl = router.replace(/^http/, 'ws') + '/v1/stream/ws';

const { pageAt, close } = await openBrowser(['allowed.test', 'blocked.test']);

// Whether a page on `host` gets the router's WebSocket open (a refused handshake is an error event).
async function webSocketOpensFrom(host) {
  const page = await pageAt(host);
  const opened = await page.evaluate((url) => new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => { socket.close(); resolve(true); };
    socket.onerror = () => resolve(false);
  }), wsUrl);
  await page.close();
  return opened;
}

// The router's own count of routed requests, asked without an Origin (not as a browser).
async function requestsServed() {
  const { backends } = await (await fetch(`${router}/backends`)).json();
  return backends.reduce((sum, b) => sum + b.metrics.requests_total, 0);
}

const chat = JSON.stringify({ model: 'llama3.2:1b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });

try {
  await check('listed origin: preflighted chat answered, routing headers readable', async () => {
    const page = await pageAt('allowed.test');
    const answer = await page.evaluate(async ({ router, chat }) => {
      const response = await fetch(`${router}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Priority': 'high' },
        body: chat,
      });
      const json = await response.json();
      return { status: response.status, backend: response.headers.get('X-Backend-Used'), text: json.choices[0].message.content };
    }, { router, chat });
    assert.equal(answer.status, 200);
    assert.ok(answer.backend, 'X-Backend-Used not readable from the page');
    assert.ok(answer.text.length > 0, 'empty answer');
    await page.close();
  });

  await check('listed origin: WebSocket opens', async () => {
    assert.equal(await webSocketOpensFrom('allowed.test'), true);
  });

  await check('other site: preflighted chat refused by the browser', async () => {
    const page = await pageAt('blocked.test');
    const outcome = await page.evaluate(async ({ router, chat }) => {
      try {
        await fetch(`${router}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: chat });
        return 'answered';
      } catch (error) {
        return error.name;
      }
    }, { router, chat });
    assert.equal(outcome, 'TypeError');
    await page.close();
  });

  await check('other site: a blind cross-site post runs nothing and cannot change the mode', async () => {
    const before = await requestsServed();
    const modeBefore = (await (await fetch(`${router}/efficiency`)).json()).mode;
    const page = await pageAt('blocked.test');
    const otherMode = modeBefore === 'quiet' ? 'performance' : 'quiet';
    await page.evaluate(async ({ router, chat, otherMode }) => {
      // Simple requests: the browser sends them without asking first and hides the answer.
      await fetch(`${router}/v1/chat/completions`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: chat });
      await fetch(`${router}/efficiency`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ mode: otherMode }) });
    }, { router, chat, otherMode });
    await page.close();
    assert.equal(await requestsServed(), before, 'the router served a cross-site request');
    assert.equal((await (await fetch(`${router}/efficiency`)).json()).mode, modeBefore, 'a cross-site page changed the mode');
  });

  await check('other site: WebSocket refused', async () => {
    assert.equal(await webSocketOpensFrom('blocked.test'), false);
  });
} finally {
  await close();
}
