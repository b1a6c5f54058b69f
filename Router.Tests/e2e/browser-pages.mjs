// Pages for the browser tests: one local server of blank pages, and Debian's Chromium (driven by
// playwright-core) with the given host names mapped to 127.0.0.1, so one server stands for several
// sites. pageAt(host) opens a page of that site; close() stops both.
import http from 'node:http';
import { chromium } from 'playwright-core';

export async function openBrowser(hostNames) {
  const pages = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>page</title>');
  });
  await new Promise((resolve) => pages.listen(0, '127.0.0.1', resolve));
  const port = pages.address().port;

  const rules = hostNames.map((host) => `MAP ${host} 127.0.0.1`).join(', ');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', `--host-resolver-rules=${rules}`],
  });

  return {
    browser,
    async pageAt(host) {
      const page = await browser.newPage();
      await page.goto(`http://${host}:${port}/`);
      return page;
    },
    async close() {
      await browser.close();
      pages.close();
    },
  };
}
