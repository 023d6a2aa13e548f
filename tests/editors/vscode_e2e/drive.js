// Drives a running code-server in headless Chromium (playwright-core): opens FILE, types TEXT at
// the end, waits for SmallCode's ghost text, screenshots it, accepts it with Tab and saves.
// With NEXT_EDIT_FILE: opens it, renames `value` to `result` on its first line, waits for the
// next-edit decoration on another line, accepts it with Tab and saves.
// Usage: node drive.js URL FILE TEXT SCREENSHOT_DIR [NEXT_EDIT_FILE]   (env PLAYWRIGHT_CORE:
// module path, CHROMIUM: browser binary). Prints one JSON line: {ghost: [lines], status, tooltip,
// nextEdit: {struck, lines, after}}.
const path = require('node:path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, file, text, shots, nextEditFile] = process.argv.slice(2);
const log = (...a) => console.error('[drive]', ...a);

async function openFile(page, name) {
  await page.keyboard.press('Control+p');
  await page.waitForSelector('.quick-input-widget input');
  await page.keyboard.type(name);
  // The list keeps the rows of an earlier Quick Open: wait for this file's.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).first().waitFor();
  await page.waitForSelector('.monaco-editor .view-lines');
}

/** The active editor's view: each line's text with the decorations' `before`/`after` text
 * (CSS pseudo-elements, not in the DOM text) and the text drawn struck through (SmallCode's
 * next-edit decoration). */
function editorView() {
  const editor = [...document.querySelectorAll('.editor-instance .monaco-editor')].find((e) => e.getClientRects().length) ||
    document.querySelector('.monaco-editor');
  const pseudo = (e, which) => {
    const c = getComputedStyle(e, which).content;
    if (!c || c === 'none' || c === 'normal') {
      return '';
    }
    try {
      return JSON.parse(c);
    } catch {
      return c;
    }
  };
  const clean = (t) => t.replace(/\u00a0/g, ' ');
  const rows = [...editor.querySelectorAll('.view-lines .view-line')]
    .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
  const lines = rows.map((row) => [...row.querySelectorAll(':scope > span > span')]
    .map((e) => pseudo(e, '::before') + clean(e.textContent) + pseudo(e, '::after')).join(''));
  const struck = [...editor.querySelectorAll('.view-lines .view-line span span')]
    .filter((e) => getComputedStyle(e).textDecorationLine.includes('line-through'))
    .map((e) => clean(e.textContent));
  return { lines, struck };
}

/** A next edit: rename on line 1, the decoration on line 2, Tab applies it there. */
async function nextEdit(page, name) {
  await openFile(page, name);
  await page.waitForFunction(`(${editorView})().lines.includes('value = compute(1)')`);
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Control+Shift+ArrowRight'); // selects `value`
  await page.keyboard.type('result', { delay: 30 });
  const shownAt = Date.now();
  await page.waitForFunction(`(${editorView})().struck.length > 0`, null, { timeout: 30000 });
  log('next edit shown after', Date.now() - shownAt, 'ms');
  // Inline completion may still answer for the cursor's spot; its ghost text keeps Tab, so
  // let it land and close it with Escape (which leaves the next edit while ghost text shows).
  await page.waitForTimeout(1500);
  if (await page.$('.ghost-text-decoration, .ghost-text')) {
    log('ghost text over the next edit: Escape');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
  }
  const shown = await page.evaluate(editorView);
  log('next edit view', JSON.stringify(shown));
  await page.screenshot({ path: path.join(shots, 'vscode-next-edit.png') });
  await page.keyboard.press('Tab');
  await page.waitForFunction(`(${editorView})().lines.includes('print(result)')`, null, { timeout: 10000 })
    .catch(() => log('line 2 did not become print(result)'));
  const after = await page.evaluate(editorView);
  log('after Tab', JSON.stringify(after));
  await page.keyboard.press('Control+s');
  await page.waitForTimeout(500);
  return { struck: shown.struck, lines: shown.lines, after: after.lines };
}

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
    await openFile(page, path.basename(file));
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
    const next = nextEditFile ? await nextEdit(page, path.basename(nextEditFile)) : null;
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
    console.log(JSON.stringify({ ghost, status: statusText, tooltip: label, menu, afterToggle, nextEdit: next }));
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
