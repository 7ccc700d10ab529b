// A throw-away WordPress for the plugin's tests: Debian's
// /usr/share/wordpress copied under target/, its own wp-config.php, a fresh
// MariaDB database on 127.0.0.1:3306 (root, no password), served by PHP's
// built-in server, installed through WordPress's own installer.
//
// Invariant: everything it makes (the directory, the database, the PHP
// server) is removed by stop(), and nothing outside target/ and that
// database is written. The plugin is installed from the zip that
// build-zip.sh makes, so the zip is what is tested.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, poll } from '../../../../tests/browser/lib/harness.mjs';

export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEBIAN_WORDPRESS = '/usr/share/wordpress';
/** The WP Consent API plugin (read-only fixture beside the repository). */
export const CONSENT_API = process.env.NEXAGUARD_WP_CONSENT_API
  || path.resolve(REPO, '..', 'shared', 'fixtures', 'wp-consent-api');

// PHP's built-in server with workers is a process group of its own: the
// group is stopped, so that no worker is left holding the output pipes.
const live = new Set();
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGTERM');
});

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** mysql as root on 127.0.0.1:3306; throws with its output on failure. */
export function mysql(sql, database) {
  const args = ['-h', '127.0.0.1', '-P', '3306', '-u', 'root', '--batch', '--skip-column-names', '-e', sql];
  if (database) args.push(database);
  const r = spawnSync('mysql', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`mysql ${sql}: ${r.stderr}`);
  return r.stdout;
}

export class WordPress {
  /**
   * Lays out and starts a WordPress on 127.0.0.1:`port` whose PHP trusts
   * `ca` for requests to `nexaguardOrigin`.
   */
  static async start({ port, nexaguardOrigin, ca }) {
    const id = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const wp = new WordPress(port, id);
    mkdirSync(path.join(REPO, 'target'), { recursive: true });
    try {
      wp.#layout(nexaguardOrigin, ca);
      mysql(`CREATE DATABASE ${wp.database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      wp.databaseMade = true;
      await wp.#serve();
    } catch (e) {
      await wp.stop();
      throw e;
    }
    return wp;
  }

  constructor(port, id) {
    this.port = port;
    this.origin = `http://127.0.0.1:${port}`;
    this.dir = path.join(REPO, 'target', `wordpress-test-${id}`);
    this.database = `nexaguard_wp_${id}`;
    this.admin = { user: 'admin', password: `pw-${randomBytes(12).toString('hex')}`, email: 'admin@example.test' };
    this.log = '';
  }

  #layout(nexaguardOrigin, ca) {
    cpSync(DEBIAN_WORDPRESS, this.dir, { recursive: true, dereference: false });
    const salt = () => randomBytes(32).toString('hex');
    const keys = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT']
      .map((k) => `define('${k}', '${salt()}');`).join('\n');
    // Replaces Debian's wp-config.php, which reads /etc/wordpress.
    writeFileSync(path.join(this.dir, 'wp-config.php'), `<?php
// wp-config.php of a throw-away test WordPress (integrations/wordpress/test).
define('DB_NAME', '${this.database}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '127.0.0.1:3306');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
${keys}
$table_prefix = 'wp_';
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', __DIR__ . '/debug.log');
define('WP_DEBUG_DISPLAY', false);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
define('NEXAGUARD_TEST_SERVER', ${JSON.stringify(nexaguardOrigin)});
define('NEXAGUARD_TEST_CA', ${JSON.stringify(ca)});
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
`);
    const content = path.join(this.dir, 'wp-content');
    cpSync(path.join(HERE, 'mu-plugins'), path.join(content, 'mu-plugins'), { recursive: true });
    mkdirSync(path.join(content, 'plugins'), { recursive: true });
    cpSync(CONSENT_API, path.join(content, 'plugins', 'wp-consent-api'), { recursive: true });
    // The plugin as a site owner gets it: the zip build-zip.sh makes.
    const zip = path.join(this.dir, 'nexaguard.zip');
    run('bash', [path.join(HERE, '..', 'build-zip.sh'), zip]);
    run('python3', ['-m', 'zipfile', '-e', zip, path.join(content, 'plugins')]);
    rmSync(zip);
  }

  async #serve() {
    const child = spawn('php', ['-S', `127.0.0.1:${this.port}`, '-t', this.dir], {
      cwd: this.dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Several workers: the browser loads scripts while a page renders.
      env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' },
    });
    live.add(child);
    this.child = child;
    const keep = (chunk) => {
      if (process.env.NEXAGUARD_TEST_SERVER_LOG) process.stderr.write(chunk);
      this.log = (this.log + chunk).slice(-64 * 1024);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.on('exit', () => live.delete(child));
    await poll(`php -S on ${this.origin}`, async () => {
      const res = await fetch(`${this.origin}/wp-admin/install.php`, { redirect: 'manual' });
      return res.status < 500;
    }, { timeout: 20_000 });
  }

  /** WordPress's installer, step 2, posted as its form would be. */
  async install(title = 'NexaGuard test site') {
    const body = new URLSearchParams({
      weblog_title: title,
      user_name: this.admin.user,
      admin_password: this.admin.password,
      admin_password2: this.admin.password,
      pw_weak: 'on',
      admin_email: this.admin.email,
      blog_public: '0',
      language: '',
    });
    const res = await fetch(`${this.origin}/wp-admin/install.php?step=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const text = await res.text();
    if (res.status !== 200 || !/wp-login\.php/.test(text)) {
      throw new Error(`the WordPress installer did not finish (HTTP ${res.status}): ${text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
    }
  }

  /** An option's value as stored (serialized PHP for arrays), or null. */
  option(name) {
    const out = mysql(`SELECT option_value FROM wp_options WHERE option_name = '${name.replace(/'/g, "''")}'`, this.database);
    return out === '' ? null : out.replace(/\n$/, '');
  }

  /** Sets an option's value (a plain string) in the database, adding it if missing. */
  setOption(name, value) {
    const q = (v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
    mysql(`INSERT INTO wp_options (option_name, option_value, autoload) VALUES (${q(name)}, ${q(value)}, 'yes') `
      + 'ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)', this.database);
  }

  /** Runs SQL on the site's database. */
  sql(statement) {
    return mysql(statement, this.database);
  }

  /** The option names in wp_options that match a LIKE pattern. */
  optionNames(like) {
    return mysql(`SELECT option_name FROM wp_options WHERE option_name LIKE '${like.replace(/'/g, "''")}' ORDER BY option_name`, this.database)
      .split('\n').filter(Boolean);
  }

  /** WordPress's debug.log (PHP notices, warnings, errors), or ''. */
  debugLog() {
    const file = path.join(this.dir, 'wp-content', 'debug.log');
    const root = path.join(this.dir, 'debug.log');
    return [file, root].filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('');
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      killGroup(this.child, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
      if (!stopped) killGroup(this.child, 'SIGKILL');
    }
    if (this.databaseMade) {
      try {
        mysql(`DROP DATABASE IF EXISTS ${this.database}`);
      } catch (e) {
        console.error(`could not drop the test database ${this.database}: ${e.message}`);
      }
    }
    if (!process.env.NEXAGUARD_WP_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

// --- the admin screens, in the browser --------------------------------------

/** Signs in through wp-login.php in `page`. */
export async function login(page, wp) {
  await page.goto(`${wp.origin}/wp-login.php`);
  await page.fill('#user_login', wp.admin.user);
  await page.fill('#user_pass', wp.admin.password);
  await Promise.all([page.waitForNavigation(), page.click('#wp-submit')]);
  if (!/\/wp-admin\//.test(page.url())) {
    throw new Error(`signing in did not reach wp-admin (at ${page.url()}): ${(await page.textContent('body')).slice(0, 400)}`);
  }
}

/** Activates a plugin by its name through the Plugins screen's link. */
export async function activatePlugin(page, wp, name) {
  await page.goto(`${wp.origin}/wp-admin/plugins.php`);
  const link = page.locator(`a[aria-label="Activate ${name}"]`);
  if (await link.count() !== 1) {
    throw new Error(`the Plugins screen has no "Activate ${name}" link: ${(await page.textContent('#the-list').catch(() => '')).replace(/\s+/g, ' ').slice(0, 600)}`);
  }
  await Promise.all([page.waitForNavigation(), link.click()]);
  await page.locator(`a[aria-label="Deactivate ${name}"]`).waitFor({ state: 'attached' }).catch(async () => {
    throw new Error(`${name} is not active after its Activate link: ${(await page.textContent('#wpbody-content')).replace(/\s+/g, ' ').slice(0, 600)}`);
  });
}

export const SETTINGS_PATH = '/wp-admin/options-general.php?page=nexaguard';

/**
 * Fills the NexaGuard settings page with `values` and saves it:
 * { serverUrl, productionKey, stagingKey, environment, languageSource,
 *   loadWhenPreviewing, rules: [{kind, match, category}] } (each optional).
 * Returns the page after the save.
 */
export async function saveSettings(page, wp, values) {
  await page.goto(`${wp.origin}${SETTINGS_PATH}`);
  const field = (name) => `[name="nexaguard_settings[${name}]"]`;
  if (values.serverUrl !== undefined) await page.fill('#nexaguard-server-url', values.serverUrl);
  if (values.productionKey !== undefined) await page.fill('#nexaguard-production-key', values.productionKey);
  if (values.stagingKey !== undefined) await page.fill('#nexaguard-staging-key', values.stagingKey);
  if (values.environment) await page.check(`${field('environment')}[value="${values.environment}"]`);
  if (values.languageSource) await page.check(`${field('language_source')}[value="${values.languageSource}"]`);
  if (values.loadWhenPreviewing !== undefined) await page.setChecked('#nexaguard-load-when-previewing', values.loadWhenPreviewing);
  if (values.rules) {
    const rows = await page.locator('#nexaguard-blocking tbody tr').count();
    if (rows < values.rules.length) throw new Error(`the blocking table has ${rows} rows, fewer than ${values.rules.length}`);
    for (let i = 0; i < rows; i += 1) {
      const rule = values.rules[i] ?? { kind: 'handle', match: '', category: '' };
      await page.selectOption(field(`blocking][${i}][kind`), rule.kind);
      await page.fill(field(`blocking][${i}][match`), rule.match);
      await page.fill(field(`blocking][${i}][category`), rule.category);
    }
  }
  await Promise.all([page.waitForNavigation(), page.click('#nexaguard-settings-form #submit')]);
  return page;
}
