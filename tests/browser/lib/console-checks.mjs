// Checks shared by the console's browser tests: axe-core on a page under
// the console's strict CSP, no horizontal overflow, tables read as maps.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** axe-core's source, evaluated in the page (the CSP forbids inline script tags). */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/** axe-core's WCAG 2.x A/AA violations on the page. */
export async function axeViolations(page) {
  // Layout rules (target size, contrast) judge the styled page: after a form
  // post the new page's stylesheet and fonts may still be loading when the
  // test goes on, and on a loaded machine axe then saw unstyled links.
  await page.waitForLoadState('load');
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 200) })),
    }));
  }, WCAG_TAGS);
}

/** Fails with the list of violations when axe-core finds any. */
export async function assertNoAxeViolations(page, where) {
  const violations = await axeViolations(page);
  assert.deepEqual(
    violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.html}`).join('; ')})`),
    [],
    `axe-core finds WCAG A/AA violations on ${where}`,
  );
}

/** Fails when the document is wider than the viewport (sideways scrolling). */
export async function assertNoHorizontalOverflow(page, where) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `${where}: the page is ${scroll} px wide in a ${client} px viewport`);
}

/** A two-column table (row header, value) as { header: value }. */
export async function tableMap(page, selector) {
  return page.locator(`${selector} tbody tr`).evaluateAll((rows) => Object.fromEntries(
    rows.map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()]),
  ));
}
