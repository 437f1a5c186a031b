/**
 * A real Chromium (Debian's /usr/bin/chromium) driven by playwright-core,
 * headless, with a fresh profile that is removed afterwards. Tests that need
 * it skip with the reason when the binary is absent.
 */
import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { scratchDir } from './scratch.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is absent (Debian package: chromium)`;
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

export interface Browser { context: BrowserContext; page: Page; consoleErrors: string[]; close(): Promise<void> }

/** Starts Chromium with one page of `width` x `height` CSS pixels at device scale 1; console errors and page errors are collected. */
export async function openBrowser(width = 1000, height = 700): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(scratchDir('coco-view-chromium-'), {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: { width, height }, deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  return { context, page, consoleErrors, close: () => context.close() };
}
