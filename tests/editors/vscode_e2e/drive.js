// Drives a running code-server in headless Chromium (playwright-core): opens FILE, types TEXT at
// the end, waits for SmallCode's ghost text, screenshots it, accepts it with Tab and saves.
// Usage: node drive.js URL FILE TEXT SCREENSHOT_DIR   (env PLAYWRIGHT_CORE: module path,
// CHROMIUM: browser binary). Prints one JSON line: {ghost: [lines], status, tooltip}.
const path = require('node:path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, file, text, shots] = process.argv.slice(2);
const log = (...a) => console.error('[drive]', ...a);

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(60000);
  try {
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 120000 });
    log('workbench up');
    // The extension's status bar item shows once it activated.
    const status = page.locator('.statusbar-item', { hasText: 'SmallCode' }).first();
    await status.waitFor({ timeout: 120000 });
    log('status item up');
    // Open the file through Quick Open.
    await page.keyboard.press('Control+p');
    await page.waitForSelector('.quick-input-widget input');
    await page.keyboard.type(path.basename(file));
    await page.waitForSelector('.quick-input-list .monaco-list-row');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.monaco-editor .view-lines');
    await page.locator('.monaco-editor .view-lines').first().click();
    // Wait for the model to load: the item's tooltip (aria-label) says ready.
    const state = await page.waitForFunction(() => {
      const el = [...document.querySelectorAll('.statusbar-item')].find((e) => e.textContent.includes('SmallCode'));
      const m = /SmallCode: (ready|error|server stopped|disabled)/.exec((el && el.getAttribute('aria-label')) || '');
      return m && m[1];
    }, null, { timeout: 120000 });
    if ((await state.jsonValue()) !== 'ready') {
      throw new Error(`SmallCode status: ${await status.getAttribute('aria-label')}`);
    }
    log('server ready');
    await page.keyboard.press('Control+End');
    // The cursor rests a moment before typing, as people's do: the extension sends
    // smallcode/didMoveCursor and the server prefills the spot (the test reads its log line).
    await page.waitForTimeout(1000);
    // A settings push right after start may still be reloading the model: rest until ready
    // (the server warms a spot the cursor rested on while loading once it is loaded).
    await page.waitForFunction(() => {
      const el = [...document.querySelectorAll('.statusbar-item')].find((e) => e.textContent.includes('SmallCode'));
      return /SmallCode: ready/.test((el && el.getAttribute('aria-label')) || '');
    }, null, { timeout: 120000 });
    await page.waitForTimeout(1000);
    await page.keyboard.type(text, { delay: 30 });
    await page.waitForSelector('.ghost-text-decoration, .ghost-text', { timeout: 60000 });
    await page.waitForTimeout(300);
    // Ghost text is drawn as spans (.ghost-text-decoration inline, .ghost-text in the view zone
    // below); group them by their view line to get the suggestion's lines.
    const ghost = await page.evaluate(() => {
      const lines = new Map();
      for (const e of document.querySelectorAll('.ghost-text-decoration, .ghost-text')) {
        if (e.parentElement && e.parentElement.closest('.ghost-text-decoration, .ghost-text')) {
          continue;
        }
        const line = e.closest('.view-line') || e.parentElement;
        lines.set(line, (lines.get(line) || '') + e.textContent.replace(/\u00a0/g, ' '));
      }
      return [...lines.values()];
    });
    log('ghost', JSON.stringify(ghost));
    await page.screenshot({ path: path.join(shots, 'vscode-ghost-text.png') });
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => !document.querySelector('.ghost-text-decoration, .ghost-text'), null, { timeout: 10000 })
      .catch(() => log('ghost text still visible after Tab'));
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(shots, 'vscode-accepted.png') });
    // The status bar tooltip: model, latency, tokens/s, acceptance.
    await page.keyboard.press('Escape');
    await status.hover();
    await page.waitForSelector('.monaco-hover, .workbench-hover', { timeout: 10000 })
      .catch(() => log('no hover shown'));
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, 'vscode-status-tooltip.png') });
    const label = await status.getAttribute('aria-label');
    const statusText = await status.textContent();
    // Click the item: the quick menu offers toggle/restart/log; disable through it.
    await status.click();
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Disable completions' });
    await row.waitFor({ timeout: 10000 });
    const menu = await page.locator('.quick-input-list').innerText();
    await page.screenshot({ path: path.join(shots, 'vscode-menu.png') });
    await row.click();
    await page.waitForFunction(() => {
      const el = [...document.querySelectorAll('.statusbar-item')].find((e) => e.textContent.includes('SmallCode'));
      return el && /SmallCode: disabled/.test(el.getAttribute('aria-label') || '');
    }, null, { timeout: 30000 });
    const afterToggle = await status.getAttribute('aria-label');
    console.log(JSON.stringify({ ghost, status: statusText, tooltip: label, menu, afterToggle }));
  } catch (err) {
    await page.screenshot({ path: path.join(shots, 'vscode-failure.png') }).catch(() => undefined);
    throw err;
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
