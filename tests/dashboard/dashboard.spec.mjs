// Drives baton's dashboard in a real headless Chromium (Debian's /usr/bin/chromium) with
// playwright-core. Run by tests/integration/test_dashboard.py against a running baton; also runs
// against tests/dashboard/serve_sample.py (the page's own offline check).
//
// Environment:
//   DASHBOARD_URL   the page (e.g. http://127.0.0.2:41234/)
//   EXPECT_HOSTS    comma-separated "cluster/host" ids that must be shown
//   DRAIN_HOST      "cluster/host" to drain by clicking its Drain button
//   TOKEN           typed into the token field first when set
//   SCREENSHOT      where to save a PNG of the page after the drain (optional)
//   EXPECT_PINNING  JSON array of the asset-pinning rows that must be shown (optional; "[]" = the
//                   panel must say "no pinned groups"): [{"key": "group/cluster", "cdn": "id",
//                   "state": "regex the state cell matches", "versions": ["oldest id", ...]}]
//   CHROMIUM        browser binary (default /usr/bin/chromium)
// Exits 0 when every check passed; prints one line per failed check and exits 1 otherwise.
import { chromium } from 'playwright-core';

const url = process.env.DASHBOARD_URL;
const expectHosts = (process.env.EXPECT_HOSTS || '').split(',').filter(Boolean);
const drainHost = process.env.DRAIN_HOST || '';
const expectPinning = process.env.EXPECT_PINNING ? JSON.parse(process.env.EXPECT_PINNING) : null;
const timeout = 10000;
if (!url) {
  console.log('DASHBOARD_URL is required');
  process.exit(2);
}

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // Console errors include CSP violations (an inline script or style the policy refuses).
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  const response = await page.goto(url, { waitUntil: 'load', timeout });
  if (!response || response.status() !== 200) problems.push(`page answered ${response && response.status()}`);

  if (process.env.TOKEN) {
    await page.getByTestId('token').fill(process.env.TOKEN);
    await page.getByTestId('token').dispatchEvent('change');
  }
  // The first poll fills the tables; the second one gives rates (deltas between polls).
  for (const id of expectHosts) {
    await page.getByTestId(`host-${id}`).waitFor({ timeout });
  }
  const clusters = new Set(expectHosts.map((id) => id.slice(0, id.indexOf('/'))));
  for (const name of clusters) {
    if (!(await page.getByTestId(`cluster-${name}`).isVisible())) problems.push(`cluster ${name} not shown`);
  }
  // Rates need two polls (counter deltas): wait until a host shows a req/s number.
  const rateShown = () => [...document.querySelectorAll('tr[data-testid^="host-"] td:nth-child(8)')]
    .some((td) => /^\d+(\.\d)?$/.test(td.textContent));
  await page.waitForFunction(rateShown, null, { timeout });
  // The header's load figure: open connections (a number), then what [limits] shed, if anything.
  const conns = ((await page.getByTestId('connections').textContent()) || '').trim();
  if (!/^\d+(\/\d+)?(, \d+ shed)?(, OVERLOADED)?$/.test(conns)) problems.push(`connections header shows "${conns}"`);
  if (expectPinning) await checkPinning(page, expectPinning, problems);

  if (drainHost) {
    const state = page.getByTestId(`host-state-${drainHost}`);
    const before = (await state.textContent()) || '';
    if (before.startsWith('drain')) problems.push(`${drainHost} already draining before the click`);
    // The accessible name is what a screen reader announces: it names the host.
    await page.getByRole('button', { name: `drain ${drainHost}`, exact: true }).click();
    await page.waitForFunction(
      (id) => {
        const cell = document.querySelector(`[data-testid="host-state-${CSS.escape(id)}"]`);
        return cell && cell.textContent.startsWith('drain');
      },
      drainHost, { timeout });
    const result = (await page.getByTestId('result').textContent()) || '';
    if (!result.includes(drainHost.slice(drainHost.indexOf('/') + 1)) && !/drain/.test(result)) {
      problems.push(`action result does not mention the drain: "${result}"`);
    }
    // The page then sees no new request reach the drained host: its req/s falls to 0.
    await page.waitForFunction(
      (id) => {
        const row = document.querySelector(`[data-testid="host-${CSS.escape(id)}"]`);
        return row && row.children[7].textContent === '0.0';
      },
      drainHost, { timeout });
  }
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
} catch (err) {
  problems.push(`failed: ${err && err.message ? err.message.split('\n')[0] : err}`);
} finally {
  await browser.close();
}
for (const p of problems) console.log(p);

// The asset-pinning panel: one row per pinned cluster with its state, the CDN version (and that
// version's chip highlighted among the versions, oldest first) and per-poll counter rates.
async function checkPinning(page, rows, problems) {
  const body = page.locator('tbody#pinning');
  if (!rows.length) {
    const text = ((await body.textContent()) || '').trim();
    if (text !== 'no pinned groups') problems.push(`pinning panel not empty: "${text}"`);
    return;
  }
  const shown = await body.locator('tr').count();
  if (shown !== rows.length) problems.push(`pinning panel shows ${shown} rows, expected ${rows.length}`);
  for (const want of rows) {
    const row = page.getByTestId(`pin-${want.key}`);
    if (!(await row.isVisible())) {
      problems.push(`pinning row ${want.key} not shown`);
      continue;
    }
    const cdn = await page.getByTestId(`pin-cdn-${want.key}`).locator('.badge').allTextContents();
    if (JSON.stringify(cdn) !== JSON.stringify([want.cdn])) {
      problems.push(`${want.key}: CDN version ${JSON.stringify(cdn)}, expected ${want.cdn}`);
    }
    const state = ((await page.getByTestId(`pin-state-${want.key}`).textContent()) || '').trim();
    if (!new RegExp(want.state).test(state)) problems.push(`${want.key}: state "${state}" does not match /${want.state}/`);
    const cell = page.getByTestId(`pin-versions-${want.key}`);
    const ids = await cell.locator('.ver').evaluateAll((chips) => chips.map((c) => c.dataset.version));
    if (JSON.stringify(ids) !== JSON.stringify(want.versions)) {
      problems.push(`${want.key}: versions ${JSON.stringify(ids)}, expected ${JSON.stringify(want.versions)}`);
    }
    const highlighted = await cell.locator('.ver.cdn').evaluateAll((chips) => chips.map((c) => c.dataset.version));
    if (JSON.stringify(highlighted) !== JSON.stringify([want.cdn])) {
      problems.push(`${want.key}: highlighted versions ${JSON.stringify(highlighted)}, expected ["${want.cdn}"]`);
    }
    // Rates come from two polls (the host rates shown above prove there were two).
    const retries = row.locator('td').nth(6);
    const count = (await retries.locator('.n').textContent()) || '';
    const rate = (await retries.locator('.rate').textContent()) || '';
    if (!/^\d+ \/ \d+$/.test(count) || !/^\d+(\.\d)?\/s$/.test(rate)) {
      problems.push(`${want.key}: retries cell "${count}" "${rate}" is not "N / M" with a rate`);
    }
  }
}
console.log(problems.length ? `FAIL (${problems.length})` : 'PASS');
process.exit(problems.length ? 1 : 0);
