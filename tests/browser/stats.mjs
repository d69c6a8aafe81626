// Loads haproxyd's statistics page in headless Chromium, logs in with basic
// auth, drains a server through the admin form, saves a screenshot and
// checks the DOM before and after. Usage: node stats.mjs URL OUTDIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [url, outDir] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // Without credentials the page is refused with the realm to log into.
  const refused = await fetch(url);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="no entrance"');

  const ctx = await browser.newContext({ httpCredentials: { username: 'admin', password: 'admin' } });
  const page = await ctx.newPage();
  const res = await page.goto(url);
  assert.equal(res.status(), 200);
  // The operator's table: a header row of column groups per proxy.
  const groups = await page.$$eval('table[data-proxy="app"] tr.titre:first-child th',
    (ths) => ths.map((t) => t.textContent));
  for (const g of ['Queue', 'Session rate', 'Sessions', 'Bytes', 'Denied', 'Errors', 'Warnings', 'Server']) {
    assert.ok(groups.includes(g), `column group ${g} in ${groups}`);
  }
  const statusOf = (name) => page.$eval(`a[name="app/${name}"]`,
    (a) => a.closest('tr').querySelector('td[data-status]').dataset.status);
  assert.equal(await statusOf('s1'), 'no check');

  // Drain s1 through the form, as an operator would.
  await page.check('input[name="s"][value="s1"]');
  await page.selectOption('select[name="action"]', 'drain');
  await Promise.all([page.waitForNavigation(), page.click('input[type="submit"][value="Apply"]')]);
  assert.match(page.url(), /st=DONE/);
  assert.match(await page.textContent('#status'), /Action processed successfully/);
  assert.equal(await statusOf('s1'), 'DRAIN');
  assert.equal(await page.$eval('a[name="app/s1"]', (a) => a.closest('tr').className), 'active_draining');
  assert.equal(await statusOf('s2'), 'no check');
  await page.screenshot({ path: `${outDir}/stats-drained.png`, fullPage: true });
  console.log('browser: 1 passed, 0 failed');
} finally {
  await browser.close();
}
