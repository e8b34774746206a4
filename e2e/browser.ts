/**
 * What the browser tests share: Debian's Chromium through playwright-core (with a fake camera and
 * microphone for voice notes), a build of the web app that is never stale, and pages signed in as
 * a given account.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { type TestServer, type User, startTestServer } from '../apps/server/test/harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = path.resolve(import.meta.dirname, '..');
export const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');

/** Why the browser tests cannot run here, or false. */
export const skipBrowser = existsSync(CHROMIUM) ? false : `browser test not run: ${CHROMIUM} is missing (apt-get install -y chromium)`;

/** Builds apps/web when dist/ is missing or older than its sources (MMD_WEB_DIST: use that build as is). */
export function buildWebApp() {
  if (process.env.MMD_WEB_DIST) return;
  const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-web.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, `building apps/web failed:\n${built.stdout}\n${built.stderr}`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      // A fake microphone (a beep) that needs no permission prompt: voice notes record for real.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * A browser context signed in as `user` (the token the sign-in form would have stored).
 * `touch`: a phone's touch screen (hasTouch, isMobile), for gestures.
 */
export async function signedIn(browser: Browser, server: TestServer, user: User, viewport = DESKTOP, options: { touch?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, ...(options.touch ? { hasTouch: true, isMobile: true } : {}) });
  await context.grantPermissions(['microphone'], { origin: server.url });
  await context.addInitScript((token) => {
    if (!window.localStorage.getItem('mmd.token')) window.localStorage.setItem('mmd.token', token);
  }, user.token);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(message.text());
  });
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name) });
}

/** The open chat's message list. */
export function messageLog(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' });
}

/** A message in the open chat, by its own text (not a reply's quote of it). */
export function bubble(page: Page, text: string | RegExp): Locator {
  return messageLog(page)
    .locator('[data-message-id]')
    .filter({ has: page.locator('.bubble > .text').filter({ hasText: text }) });
}

/** Opens a message's actions menu (hover, then its "Message actions" button). */
export async function openActions(page: Page, text: string): Promise<Locator> {
  const row = bubble(page, text);
  await row.hover();
  await row.getByRole('button', { name: 'Message actions' }).click();
  const menu = page.getByRole('menu');
  await menu.waitFor();
  return menu;
}

/** What each browser suite starts: a fresh web build if needed, a real server, and Chromium. */
export async function openBrowserSuite(config: Parameters<typeof startTestServer>[0]['config'] = {}): Promise<{ server: TestServer; browser: Browser }> {
  buildWebApp();
  const server = await startTestServer({ dialect: 'sqlite', config });
  return { server, browser: await launchBrowser() };
}

export async function closeBrowserSuite(suite: { server?: TestServer; browser?: Browser }) {
  await suite.browser?.close();
  await suite.server?.close();
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Serious and critical violations on the page as it is now. */
export async function violations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') does not apply.
  await page.evaluate(AXE);
  const found = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: object): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run({ resultTypes: ['violations'] })).violations;
  })) as Violation[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
}
