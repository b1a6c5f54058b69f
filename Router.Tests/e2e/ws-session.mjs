// The WebSocket stream client shared by http-ws.mjs (fake router) and real-ws.mjs (real daemon).
import WebSocket from 'ws';
import assert from 'node:assert/strict';

/** Rejects with "timed out waiting for <what>" unless <promise> settles within <ms>. */
export function withTimeout(promise, what, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The router's stream socket for a base http:// address. */
export const streamUrl = (base) => `${base.replace(/^http/, 'ws')}/v1/stream/ws`;

/** A frame that ends its request: done, an error, or the confirmation of a cancel. */
export const isEnd = (f) => f.done || f.error !== undefined || f.cancelled;

/**
 * Opens a socket whose frames are sorted by request_id; wait(id, predicate) resolves with the
 * first matching frame (already received or yet to come) within <patienceMs>.
 */
export async function connect(url, patienceMs) {
  const socket = new WebSocket(url);
  const frames = new Map();
  const waiters = [];
  socket.on('message', (data, isBinary) => {
    assert.equal(isBinary, false);
    const frame = JSON.parse(data.toString());
    if (!frames.has(frame.request_id)) frames.set(frame.request_id, []);
    frames.get(frame.request_id).push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.id === frame.request_id && waiter.predicate(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await withTimeout(new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  }), 'open', patienceMs);
  return {
    socket,
    closed,
    frames: (id) => frames.get(id) ?? [],
    send: (frame) => socket.send(JSON.stringify(frame)),
    wait: (id, predicate) => {
      const seen = (frames.get(id) ?? []).find(predicate);
      if (seen) return Promise.resolve(seen);
      return withTimeout(new Promise((resolve) => waiters.push({ id, predicate, resolve })), `a frame for ${id}`, patienceMs);
    },
  };
}
