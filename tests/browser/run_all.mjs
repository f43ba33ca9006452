#!/usr/bin/env node
/**
 * Open a notebook in a running JupyterLab, Run All, and report what the page shows.
 *
 * Usage:
 *   node run_all.mjs --url 'http://127.0.0.1:8888/?token=T' --notebook dir/nb.ipynb \
 *       --screenshot out.png [--timeout 300] [--chromium /usr/bin/chromium]
 *
 * Steps: open <url>/lab/tree/<notebook> in headless Chromium, wait until the notebook's kernel is
 * connected and idle, clear the outputs, run `notebook:run-all-cells`, wait until that command has
 * finished, no code cell shows `[*]:` any more and the toolbar's kernel indicator
 * (`.jp-Notebook-ExecutionIndicator[data-status="idle"]`) is idle, then print a JSON summary on
 * stdout (code cells, executed ones i.e. numbered `[n]:`, error outputs, stderr outputs, images)
 * and save a screenshot of the whole notebook. Run All stops at the first error, so the cells
 * after it stay unnumbered.
 *
 * The server must expose the app as `window.jupyterapp` (`--LabApp.expose_app_in_browser=True`):
 * JupyterLab's own commands and session state are far more robust than clicking menus, and the
 * toolbar alone says "idle" before the kernel of a freshly opened notebook is even started.
 *
 * The script never saves the notebook, but JupyterLab's autosave may: run it on a copy, or with
 * autosave off (the pytest test does both). Exit codes: 0 Run All finished (even if a cell
 * failed: read the summary), 1 bad arguments, no such notebook or browser failure, 2 timeout
 * (a screenshot is still attempted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    notebook: { type: 'string' },
    screenshot: { type: 'string' },
    timeout: { type: 'string', default: '300' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
if (!opts.url || !opts.notebook || !opts.screenshot) {
  console.error('usage: node run_all.mjs --url URL?token=T --notebook PATH --screenshot PNG [--timeout S]');
  process.exit(1);
}

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const deadline = Date.now() + Number(opts.timeout) * 1000;
const remaining = () => Math.max(1, deadline - Date.now());

class Failure extends Error {} // reported by its message alone
class Timeout extends Failure {}

/** Wait until `fn` (run in the page) is truthy, failing with `what` once the deadline passes. */
async function waitFor(page, what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: remaining(), polling: 250 });
  } catch (err) {
    if (err.name === 'TimeoutError') throw new Timeout(`timed out after ${opts.timeout} s waiting for ${what}`);
    throw err;
  }
}

/** The URL of `route`/<notebook> on the server, with the token of `opts.url`. */
function serverUrl(route) {
  const base = new URL(opts.url);
  const path = opts.notebook.split('/').map(encodeURIComponent).join('/');
  const url = new URL(`${base.pathname.replace(/\/$/, '')}/${route}/${path}`, base);
  url.search = base.search;
  return url.href;
}

/** In the page: count what the notebook shows: code cells, executed ones, errors, images. */
function summarize() {
  const node = window.runAllPanel ?? document;
  const cells = [...node.querySelectorAll('.jp-CodeCell')];
  const prompts = cells.map((c) => c.querySelector('.jp-InputPrompt')?.textContent.trim() ?? '');
  const stderr = [...node.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')];
  return {
    code_cells: cells.length,
    executed_cells: prompts.filter((p) => /^\[\d+\]:$/.test(p)).length,
    running_cells: prompts.filter((p) => p === '[*]:').length,
    // An error output renders as stderr too: it shows a traceback or a line `NameError: ...`.
    error_outputs: stderr.filter((o) =>
      /Traceback|^\w*(Error|Exception|Interrupt)\b/m.test(o.textContent)).length,
    stderr_outputs: stderr.length,
    images: node.querySelectorAll('.jp-RenderedImage img').length,
    kernel_status: node.querySelector('.jp-Notebook-ExecutionIndicator')
      ?.getAttribute('data-status') ?? null,
  };
}

/** In the page: is the notebook at `path` open, its kernel connected and idle? */
function kernelReady(path) {
  const panel = [...(window.jupyterapp?.shell.widgets('main') ?? [])]
    .find((w) => w.context?.path === path);
  const session = panel?.sessionContext;
  return Boolean(panel?.content?.widgets?.length && panel.context.isReady && session?.isReady
    && session.session?.kernel?.connectionStatus === 'connected'
    && session.kernelDisplayStatus === 'idle');
}

/** In the page: bring the notebook at `path` to the front, clear it and start Run All there
 * without waiting; `window.runAllState` tells when the command has finished. */
function startRunAll(path) {
  const { commands, shell } = window.jupyterapp;
  const panel = [...shell.widgets('main')].find((w) => w.context?.path === path);
  window.runAllPanel = panel.node; // where summarize() and runAllFinished() look
  shell.activateById(panel.id);
  shell.collapseLeft(); // the notebook gets the whole width of the screenshot
  window.runAllState = 'running';
  commands.execute('notebook:clear-all-cell-outputs')
    .then(() => commands.execute('notebook:run-all-cells'))
    .then(() => { window.runAllState = 'done'; },
      (err) => { window.runAllState = `failed: ${err}`; });
}

/** In the page: has Run All finished, no cell still queued or running, the kernel idle? */
function runAllFinished() {
  if (window.runAllState?.startsWith('failed')) return true;
  const node = window.runAllPanel;
  const prompts = [...node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
  const indicator = node.querySelector('.jp-Notebook-ExecutionIndicator');
  return window.runAllState === 'done'
    && !prompts.some((p) => p.textContent.trim() === '[*]:')
    && indicator?.getAttribute('data-status') === 'idle';
}

/** Make the viewport tall enough to show the whole notebook, scroll to its top, screenshot it. */
async function screenshot(page) {
  const height = await page.evaluate(() => {
    const outer = window.runAllPanel?.querySelector('.jp-WindowedPanel-outer');
    const last = [...(outer?.querySelectorAll('.jp-Cell') ?? [])].pop();
    return last ? Math.ceil(last.getBoundingClientRect().bottom + outer.scrollTop + 80) : 900;
  });
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 30000) });
  await page.evaluate(() => window.runAllPanel?.querySelector('.jp-WindowedPanel-outer')?.scrollTo(0, 0));
  await page.waitForTimeout(1000);
  await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: 60000 });
}

// Last resort if the browser itself hangs: give up a minute after the deadline.
setTimeout(() => {
  console.error(`run_all.mjs: timed out after ${opts.timeout} s (browser not responding)`);
  process.exit(2);
}, remaining() + 60000).unref();

const userDataDir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
let context;
let exitCode = 0;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 60000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  const started = Date.now();

  const contents = new URL(serverUrl('api/contents'));
  contents.searchParams.set('content', '0');
  const found = await fetch(contents);
  if (!found.ok) throw new Failure(`no notebook ${opts.notebook} on the server (HTTP ${found.status})`);
  await page.goto(serverUrl('lab/tree'), { timeout: remaining(), waitUntil: 'domcontentloaded' });
  await waitFor(page, 'JupyterLab (is the server run with --LabApp.expose_app_in_browser=True?)',
    () => window.jupyterapp?.shell);
  await waitFor(page, `${opts.notebook} to open and its kernel to be idle`, kernelReady, opts.notebook);
  await page.evaluate(startRunAll, opts.notebook);
  await waitFor(page, 'Run All to finish (no cell left at [*], the kernel idle)', runAllFinished);
  const state = await page.evaluate(() => window.runAllState);
  if (state !== 'done') throw new Failure(`Run All ${state}`);

  const summary = await page.evaluate(summarize);
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  await screenshot(page);
  summary.screenshot = opts.screenshot;
  console.log(JSON.stringify(summary));
} catch (err) {
  exitCode = err instanceof Timeout ? 2 : 1;
  console.error(`run_all.mjs: ${err instanceof Failure ? err.message : err.stack}`);
  const page = context?.pages()[0];
  if (page) {
    console.error(`state: ${JSON.stringify(await page.evaluate(summarize).catch(() => null))}`);
    await screenshot(page).catch(() => {});
  }
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
