// The pages in a real browser (Debian's Chromium, headless, driven by
// playwright-core): what an administrator does, by the labels on the page.
// Run by tests/web/run.sh, which starts ptc web on a temporary root.
// Environment: BASE (the server's URL), SHOTS (a folder for screenshots),
// IMPORT (a phone list file to import), LIST (the server's phone list, to
// change behind its back), NODE_DIR (where playwright-core is).
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// playwright-core lives in build/node (make check-web installs it there).
const { chromium } = createRequire(`${process.env.NODE_DIR}/`)('playwright-core');

const BASE = process.env.BASE, SHOTS = process.env.SHOTS;
let passed = 0;
const ok = (what) => { passed++; console.log(`ok - ${what}`); };

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const errors = [];

// Every control has a name a screen reader says: a label, aria-label or text.
async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
    .map(e => e.outerHTML.slice(0, 80)));
}

async function run(viewport, tag) {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', e => errors.push(`${tag}: ${e.message}`));
  // An HTTP error the page expects (401 before login, 412 for a list changed
  // meanwhile, 422 for a bad field)
  // is logged by Chromium as a failed resource: not a script error.
  page.on('console', m => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (401|412|422)/.test(m.text()))
      errors.push(`${tag}: console: ${m.text()}`);
  });
  const shot = name => page.screenshot({ path: `${SHOTS}/${name}-${tag}.png`, fullPage: true });

  await page.goto(`${BASE}/#/status`);
  await page.getByLabel('User').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('Wrong user or password.').waitFor();
  ok(`${tag}: a wrong password is said plainly`);
  await shot('login');
  // from the keyboard alone: the password field has the focus after a failure
  await page.keyboard.type('Adm1n-secret');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Status' }).waitFor();
  ok(`${tag}: log in, back where the user was going`);

  await page.getByRole('link', { name: 'Phones' }).click();
  await page.getByRole('heading', { name: 'Phones' }).waitFor();
  await page.getByText(/^\d+ of \d+ phones/).waitFor();
  ok(`${tag}: the phone table with its count`);
  assert.deepEqual(await unlabelled(page), [], 'every control of Phones is labelled');
  await shot('phones');
  return page;
}

// ---- the whole flow, desktop ----
const page = await run({ width: 1280, height: 800 }, 'desktop');
const mac = '80:5e:c0:aa:bb:01';
await page.getByRole('button', { name: 'Add phone' }).click();
const dlg = page.getByRole('dialog');
await dlg.getByLabel('Template').selectOption({ label: 'Yealink T4x/T5x (1 line)' });
await dlg.getByLabel('MAC address').fill('80:5e:c0:zz:bb:01');
await dlg.getByLabel('Extension 1', { exact: true }).fill('299');
await dlg.getByLabel('CallerID name 1', { exact: true }).fill('New Desk');
await dlg.getByRole('button', { name: 'Save' }).click();
const macErr = dlg.locator('#' + (await dlg.getByLabel('MAC address').getAttribute('id')) + '-err');
await macErr.waitFor();
assert.match(await macErr.textContent(), /MAC/);
ok('a bad MAC: the error beside the MAC field');
await page.screenshot({ path: `${SHOTS}/phone-form-error-desktop.png` });
await dlg.getByLabel('MAC address').fill(mac);
await dlg.getByRole('button', { name: 'Save' }).click();
await page.getByRole('cell', { name: mac, exact: true }).waitFor();
await page.getByText(/^15 of 15 phones/).waitFor();
ok('add a phone through the form');

await page.getByRole('button', { name: `Edit ${mac}` }).click();
await dlg.getByLabel('CallerID name 1', { exact: true }).fill('Renamed Desk');
await dlg.getByRole('button', { name: 'Save' }).click();
await page.getByRole('cell', { name: 'Renamed Desk', exact: true }).waitFor();
ok('edit it');

// sort by a column, both ways (the table starts sorted by first extension)
await page.getByRole('button', { name: 'Extension 1', exact: true }).click();
assert.equal(await page.locator('tbody tr').first().locator('td.mono').textContent(), mac);
await page.getByRole('button', { name: 'Extension 1', exact: true }).click();
assert.equal(await page.locator('tbody tr').first().locator('td.mono').textContent(), '80:5e:c0:1a:2b:01');
ok('sort by a column, descending and ascending');

// a change made meanwhile, behind the page's back: 412, said plainly, nothing overwritten
await page.getByRole('button', { name: 'Edit 80:5e:c0:1a:2b:02' }).click();
appendFileSync(process.env.LIST, '# edited by hand meanwhile\n');
await dlg.getByLabel('CallerID name 1', { exact: true }).fill('Shipping Two');
await dlg.getByRole('button', { name: 'Save' }).click();
await page.getByText(/The phone list was changed meanwhile/).waitFor();
await page.getByRole('button', { name: 'Reload' }).click();
await page.getByRole('cell', { name: 'Shipping', exact: true }).waitFor();
ok('a change made meanwhile: 412 shown, with a way to reload');

await page.getByLabel(`Select ${mac}`).check();
await page.getByRole('button', { name: 'Disable' }).click();
await page.locator('tr.off', { hasText: mac }).waitFor();
ok('disable it');

await page.getByLabel('Search').fill('2b01');
await page.getByText(/^1 of 15 phones/).waitFor();
await page.getByLabel('Search').fill('');
ok('filter the table as one types');

await page.getByRole('link', { name: 'Generate' }).click();
await page.getByText('Files were not generated from this list yet.').waitFor();
await page.getByRole('button', { name: 'Generate files' }).click();
await page.getByRole('heading', { name: /Would be created/ }).waitFor();
await page.locator('summary', { hasText: '805ec01a2b01.cfg' }).click();
const diff = await page.locator('pre.diff').first().textContent();
assert.match(diff, /\+account\.1\.password = \*{8}/);
ok('the dry run lists the files, each diff with the password masked');
await page.screenshot({ path: `${SHOTS}/generate-dry-run-desktop.png`, fullPage: true });
await page.getByRole('button', { name: 'Confirm' }).click();
await page.getByText(/^Done: 14 phones, 18 files created/).waitFor();
ok('Confirm: the result counts');
await page.screenshot({ path: `${SHOTS}/generate-done-desktop.png`, fullPage: true });

// the list changes after a generation: the Generate page says so
await page.getByRole('link', { name: 'Phones' }).click();
await page.getByLabel('Select 80:5e:c0:1a:2b:02').check();
page.once('dialog', async d => { assert.equal(d.message(), 'Delete 1 phone?'); await d.accept(); });
await page.getByRole('button', { name: 'Delete' }).click();
await page.getByText(/^14 of 14 phones/).waitFor();
ok('delete asks first, naming how many');
await page.getByRole('link', { name: 'Generate' }).click();
await page.getByText('The phone list has changed since the last generation.').waitFor();
ok('Generate says the list changed since');

await page.getByRole('link', { name: 'Status' }).click();
await page.getByRole('heading', { name: 'Status' }).waitFor();
await page.getByRole('button', { name: 'Reboot 80:5e:c0:1a:2b:01' }).click();
await page.getByText('reboot: 1 sent, 0 failed.').waitFor();
ok('reboot one phone from the status page');
await page.screenshot({ path: `${SHOTS}/status-desktop.png`, fullPage: true });
ok('status with Reload and Reboot per phone');

await page.getByRole('link', { name: 'Settings' }).click();
await page.getByLabel('Gateway interface').waitFor();
await page.getByLabel('Phone list file').setInputFiles(process.env.IMPORT);
await page.getByRole('button', { name: 'Check import' }).click();
await page.getByText(/^Check: 1 added/).waitFor();
await page.getByRole('button', { name: 'Import', exact: true }).click();
await page.getByText(/^Imported: 1 added/).waitFor();
ok('import a list: the check first, then the import');
await page.screenshot({ path: `${SHOTS}/settings-desktop.png`, fullPage: true });

await page.getByRole('button', { name: 'Log out' }).click();
await page.getByRole('button', { name: 'Log in' }).waitFor();
ok('log out');

// ---- every page at 390x844 ----
const phone = await run({ width: 390, height: 844 }, 'mobile');
for (const name of ['Generate', 'Status', 'Settings']) {
  await phone.getByRole('link', { name }).click();
  await phone.getByRole('heading', { name }).waitFor();
  assert.deepEqual(await unlabelled(phone), [], `every control of ${name} is labelled`);
  await phone.screenshot({ path: `${SHOTS}/${name.toLowerCase()}-mobile.png`, fullPage: true });
}
ok('every page at 390x844, every control labelled');

await browser.close();
assert.deepEqual(errors, [], 'no script errors');
console.log(`web pages: ${passed} passed, 0 failed`);
