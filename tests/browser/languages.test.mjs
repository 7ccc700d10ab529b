// A visitor reads the banner and the preference center in their own
// language, throughout: NexaGuard's texts, the site's texts and the IAB's
// (purposes, features, stacks, data categories from the GVL translation
// fixtures the server embeds with its sample GVL: German, French, Arabic).
// The TC string's consent language is the language shown; Arabic is laid
// out right to left; axe-core finds nothing in each language. A language
// the IAB texts are not held in (Italian here) is shown in English, whole,
// and the TC string says EN. The visitor can switch language in the
// preference center, and the choice is remembered on the next page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import { BANNER, PREFS, banner, openPreferencesFromBanner, pageErrors, prefs, prefsButton, reopenButton, sdkReady, tcfapi } from './lib/sdk.mjs';
import { assertNoAxeViolations } from './lib/console-checks.mjs';

const LANGUAGES = ['en', 'de', 'fr', 'ar', 'it'];

/** The site's own texts, per language (only the ones the site writes). */
const SITE_TEXTS = {
  en: { title: 'We value your privacy', description: 'We and our partners use your data for the purposes below.', necessary: 'Strictly necessary' },
  de: { title: 'Ihre Privatsphäre ist uns wichtig', description: 'Wir und unsere Partner nutzen Ihre Daten für die unten genannten Zwecke.', necessary: 'Unbedingt erforderlich' },
  fr: { title: 'Votre vie privée nous importe', description: 'Nos partenaires et nous utilisons vos données aux fins ci-dessous.', necessary: 'Strictement nécessaires' },
  ar: { title: 'نحن نحترم خصوصيتك', description: 'نستخدم نحن وشركاؤنا بياناتك للأغراض المذكورة أدناه.', necessary: 'ضرورية للغاية' },
  it: { title: 'La tua privacy è importante', description: 'Noi e i nostri partner usiamo i tuoi dati per le finalità seguenti.', necessary: 'Strettamente necessari' },
};

/** The demo site's TCF configuration with texts in every one of LANGUAGES. */
function siteConfig() {
  const config = repoJson('crates/server/assets/demo-site.json');
  config.languages = Object.fromEntries(LANGUAGES.map((code) => [code, {
    title: SITE_TEXTS[code].title,
    description: SITE_TEXTS[code].description,
    acceptAll: '', rejectAll: '', manage: '', save: '',
  }]));
  config.customPurposes = [{
    id: 'necessary',
    necessary: true,
    name: Object.fromEntries(LANGUAGES.map((code) => [code, SITE_TEXTS[code].necessary])),
  }];
  return config;
}

let env;
let key;

before(async () => {
  env = await setup();
  ({ key } = await env.server.createSite('languages', siteConfig()));
});

after(async () => {
  await env?.close();
});

/** Every IAB text of a vendor list (names, descriptions, illustrations). */
function iabTexts(list) {
  const out = [];
  for (const section of ['purposes', 'specialPurposes', 'features', 'specialFeatures', 'stacks', 'dataCategories']) {
    for (const entry of Object.values(list[section] || {})) {
      out.push(entry.name, entry.description, ...(entry.illustrations || []));
    }
  }
  return out.filter(Boolean);
}

/** The texts a view in `lang` may show: the answer's strings, its IAB texts and the site's texts. */
async function textsOf(lang) {
  const answer = await env.server.getJson(`/v1/sites/${key}/config.json?lang=${lang}`);
  const site = SITE_TEXTS[answer.language];
  // A template's fixed part: "Retention: {n} days" -> "Retention:".
  const strings = Object.values(answer.strings).map((s) => s.split('{n}')[0].trim());
  return { answer, all: [...strings, ...iabTexts(answer.vendorList), site.title, site.description, site.necessary] };
}

/** The text of the open banner or preference center, without the parts marked as another language (the language switcher's names). */
function viewText(page, selector) {
  return page.locator(selector).evaluate((dialog) => {
    const own = dialog.getAttribute('lang');
    const parts = [];
    const walker = dialog.ownerDocument.createTreeWalker(dialog, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const marked = n.parentElement.closest('[lang]');
      if (marked && marked.getAttribute('lang') !== own) continue;
      parts.push(n.data);
    }
    return parts.join('\n');
  });
}

/**
 * Asserts that `text` (a view shown in `lang`) holds none of the English
 * texts that differ from `lang`'s: no English sentence, label or IAB name
 * is mixed into the view.
 */
function assertNoEnglish(text, shown, english, where) {
  const own = new Set(shown.all);
  // As words: French "Consentement" holds no English "Consent".
  const escape = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const appears = (t) => new RegExp(`(^|[^\\p{L}])${escape(t)}($|[^\\p{L}])`, 'u').test(text);
  const leaks = english.all.filter((t) => t.length >= 4 && !own.has(t) && appears(t));
  assert.deepEqual(leaks, [], `${where}: English texts in the view`);
}

/** The TC string's consent language after "accept all" in the preference center. */
async function acceptAndReadConsentLanguage(page) {
  await prefsButton(page, 'accept-all').click();
  await prefs(page).waitFor({ state: 'hidden' });
  const { value } = await tcfapi(page, 'getTCData');
  assert.ok(value && value.tcString, 'a TC string after the choice');
  return env.server.decodeTc(value.tcString).consentLanguage;
}

for (const [lang, locale, expected] of [
  ['de', 'de-DE', 'DE'],
  ['fr', 'fr-FR', 'FR'],
  ['ar', 'ar-EG', 'AR'],
]) {
  test(`a visitor in ${lang} sees the banner and the preference center entirely in ${lang}, and the TC string says ${expected}`, async () => {
    const { server, browser } = env;
    const shown = await textsOf(lang);
    const english = await textsOf('en');
    assert.equal(shown.answer.language, lang);
    const fixture = repoJson(`crates/server/assets/purposes-${lang}.json`);
    await withContext(browser, server, async (ctx) => {
      const url = await definePage(ctx, { key, name: `lang-${lang}`, lang });
      const page = await openPage(ctx, url);
      await banner(page).waitFor({ state: 'visible' });
      assert.equal(await page.locator(BANNER).getAttribute('lang'), lang);
      const bannerText = await viewText(page, BANNER);
      assert.ok(bannerText.includes(SITE_TEXTS[lang].title), 'the site\'s title');
      assert.ok(bannerText.includes(shown.answer.strings.acceptAll), 'our accept-all label');
      assert.ok(Object.values(fixture.stacks).some((st) => bannerText.includes(st.name)), 'the IAB\'s stacks from the translation');
      assertNoEnglish(bannerText, shown, english, `the ${lang} banner`);
      await assertNoAxeViolations(page, `the ${lang} banner`);

      await openPreferencesFromBanner(page);
      const prefsText = await viewText(page, PREFS);
      for (const [section, id] of [['purposes', '2'], ['specialFeatures', '1'], ['specialPurposes', '1']]) {
        assert.ok(prefsText.includes(fixture[section][id].name), `${section} ${id} in ${lang}`);
      }
      assert.ok(prefsText.includes(fixture.purposes['1'].description), 'an IAB description in the language');
      assert.ok(prefsText.includes(SITE_TEXTS[lang].necessary), 'the site\'s category name');
      assertNoEnglish(prefsText, shown, english, `the ${lang} preference center`);
      const dir = await page.locator(PREFS).evaluate((e) => getComputedStyle(e).direction);
      assert.equal(dir, lang === 'ar' ? 'rtl' : 'ltr', 'the writing direction');
      if (lang === 'ar') {
        // Right to left: the close button sits at the dialog's left edge.
        const x = await page.locator(`${PREFS} button.x`).boundingBox();
        const dialog = await page.locator(PREFS).boundingBox();
        assert.ok(x.x < dialog.x + dialog.width / 2, `the close button is on the left (${x.x} in ${dialog.x}..${dialog.x + dialog.width})`);
      }
      await assertNoAxeViolations(page, `the ${lang} preference center`);

      assert.equal(await acceptAndReadConsentLanguage(page), expected);
      assert.equal(pageErrors(ctx), null);
    }, { locale });
  });
}

test('a language the IAB texts are not held in is shown in English, whole, and the TC string says EN', async () => {
  const { server, browser } = env;
  const english = await textsOf('en');
  const answer = await server.getJson(`/v1/sites/${key}/config.json?lang=it`);
  assert.equal(answer.language, 'en', 'the server answers Italian in English');
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name: 'lang-it', lang: 'it' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    assert.equal(await page.locator(BANNER).getAttribute('lang'), 'en');
    const text = await viewText(page, BANNER);
    assert.ok(text.includes(SITE_TEXTS.en.title), 'the English title');
    assert.ok(!text.includes(SITE_TEXTS.it.title), 'no Italian title mixed in');
    assert.ok(Object.values(english.answer.vendorList.stacks).some((st) => text.includes(st.name)), 'the IAB\'s English stacks');
    await openPreferencesFromBanner(page);
    assert.equal(await acceptAndReadConsentLanguage(page), 'EN');
    assert.equal(pageErrors(ctx), null);
  }, { locale: 'it-IT' });
});

test('the page\'s <html lang> comes before the browser\'s language, which decides when the page declares none', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    for (const [name, lang, shown] of [['lang-page-fr', 'fr', 'fr'], ['lang-page-none', '', 'de']]) {
      const url = await definePage(ctx, { key, name, lang });
      const page = await openPage(ctx, url);
      await banner(page).waitFor({ state: 'visible' });
      assert.equal(await page.locator(BANNER).getAttribute('lang'), shown, `page lang "${lang}"`);
      assert.ok((await viewText(page, BANNER)).includes(SITE_TEXTS[shown].title));
      await page.close();
    }
  }, { locale: 'de-DE' });
});

test('the visitor switches language in the preference center, and the next page remembers it', async () => {
  const { server, browser } = env;
  const french = await textsOf('fr');
  const english = await textsOf('en');
  const fixture = repoJson('crates/server/assets/purposes-fr.json');
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name: 'lang-switch', lang: '' });
    const page = await openPage(ctx, url);
    await openPreferencesFromBanner(page);
    const select = page.locator(`${PREFS} select[data-action="language"]`);
    assert.deepEqual(
      await select.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent, o.lang])),
      [['ar', 'العربية', 'ar'], ['de', 'Deutsch', 'de'], ['en', 'English', 'en'], ['fr', 'Français', 'fr'], ['it', 'Italiano', 'it']],
      'the site\'s languages, each named in itself',
    );
    assert.equal(await select.inputValue(), 'de');
    // A purpose ticked before the switch stays ticked after it.
    const purpose2 = page.locator(`${PREFS} input[data-purpose="2"]`);
    await purpose2.check();
    await select.selectOption('fr');
    await page.locator(`${PREFS}[lang="fr"]`).waitFor();
    const text = await viewText(page, PREFS);
    assert.ok(text.includes(fixture.purposes['2'].name), 'the IAB\'s texts in French');
    assert.ok(text.includes(french.answer.strings.save), 'our texts in French');
    assertNoEnglish(text, french, english, 'the preference center after switching to French');
    assert.equal(await purpose2.isChecked(), true, 'what was ticked stays ticked');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'nexaguard-host', 'focus stays in the dialog');
    assert.equal(await select.evaluate((s) => s.getRootNode().activeElement === s), true, 'on the language switcher');
    assert.equal(await acceptAndReadConsentLanguage(page), 'FR');

    const next = await openPage(ctx, url);
    await sdkReady(next);
    await reopenButton(next).click();
    await prefs(next).waitFor({ state: 'visible' });
    assert.equal(await next.locator(PREFS).getAttribute('lang'), 'fr', 'the next page remembers French');
    assert.equal(pageErrors(ctx), null);
  }, { locale: 'de-DE' });
});
