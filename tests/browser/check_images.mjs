#!/usr/bin/env node
/**
 * Open a page in headless Chromium and report its images: how many, and which did not load.
 *
 * Usage:
 *   node check_images.mjs --url file:///path/to/report.html [--timeout 60] [--chromium PATH]
 *
 * Waits until the page has loaded and every <img> is complete, then prints one JSON line on
 * stdout: {"title": ..., "images": n, "broken": [src of each image whose naturalWidth is 0]}.
 * Exit codes: 0 the page loaded (read the summary), 1 bad arguments or browser failure.
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    timeout: { type: 'string', default: '60' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
if (!opts.url) {
  console.error('usage: node check_images.mjs --url URL [--timeout S] [--chromium PATH]');
  process.exit(1);
}

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const timeout = Number(opts.timeout) * 1000;

let browser;
let exitCode = 0;
try {
  browser = await chromium.launch({ executablePath: opts.chromium, args: CHROMIUM_ARGS, timeout });
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(opts.url, { waitUntil: 'load', timeout });
  await page.waitForFunction(() => [...document.images].every((img) => img.complete), null,
    { timeout, polling: 100 });
  const summary = await page.evaluate(() => ({
    title: document.title,
    images: document.images.length,
    broken: [...document.images].filter((img) => img.naturalWidth === 0)
      .map((img) => img.getAttribute('src')),
  }));
  console.log(JSON.stringify(summary));
} catch (err) {
  exitCode = 1;
  console.error(`check_images.mjs: ${err.stack}`);
} finally {
  await browser?.close().catch(() => {});
}
process.exit(exitCode);
