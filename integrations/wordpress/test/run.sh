#!/usr/bin/env bash
# The WordPress plugin's tests, as one command: installs what they need
# from Debian when missing (WordPress, PHP, the MariaDB client, PHP_CodeSniffer,
# Chromium), lints every PHP file (php -l, phpcs), then runs
# wordpress.test.mjs (node --test): a throw-away WordPress on a fresh
# MariaDB database, the real NexaGuard server, headless Chromium.
#
# Invariant: it leaves nothing behind (the WordPress copy under target/,
# the database and the servers are removed) and skips, with exit 0 and a
# line starting "SKIPPED:", only when MariaDB on 127.0.0.1:3306 cannot be
# reached. Anything else missing or failing fails the run.
#
# Environment: NEXAGUARD_BIN (default target/debug/nexaguard), CHROMIUM_PATH,
# NEXAGUARD_WP_CONSENT_API (default ../shared/fixtures/wp-consent-api beside
# the repository), NEXAGUARD_TEST_SERVER_LOG=1, NEXAGUARD_WP_KEEP=1 (keep
# the WordPress directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cd "$repo"

step() { printf '\n== %s\n' "$*"; }

step "WordPress plugin: Debian packages"
# --no-install-recommends: PHP's CLI and CGI, no web server module set up
# (the tests use php -S). Debian's WordPress pulls in Apache as its httpd.
packages=()
[ -f /usr/share/wordpress/wp-settings.php ] || packages+=(wordpress)
[ -d /usr/share/wordpress/wp-content/themes/twentytwentythree ] || packages+=(wordpress-theme-twentytwentythree)
command -v php >/dev/null 2>&1 || packages+=(php-cli)
php -m 2>/dev/null | grep -qx mysqli || packages+=(php-mysql)
php -m 2>/dev/null | grep -qx curl || packages+=(php-curl)
php -m 2>/dev/null | grep -qx mbstring || packages+=(php-mbstring)
php -m 2>/dev/null | grep -qx xml || packages+=(php-xml)
command -v mysql >/dev/null 2>&1 || packages+=(mariadb-client)
command -v phpcs >/dev/null 2>&1 || packages+=(php-codesniffer)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}" \
    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"; }
fi

step "WordPress plugin: MariaDB on 127.0.0.1:3306"
if ! mysql -h 127.0.0.1 -P 3306 -u root --connect-timeout=5 -e 'SELECT 1' >/dev/null 2>&1; then
  echo "SKIPPED: MariaDB is not reachable on 127.0.0.1:3306 as root without a password; the WordPress plugin tests need it"
  exit 0
fi

consent_api="${NEXAGUARD_WP_CONSENT_API:-$repo/../shared/fixtures/wp-consent-api}"
if [ ! -f "$consent_api/wp-consent-api.php" ]; then
  echo "the WP Consent API fixture is missing at $consent_api (set NEXAGUARD_WP_CONSENT_API to its folder)" >&2
  exit 1
fi
export NEXAGUARD_WP_CONSENT_API="$consent_api"

step "WordPress plugin: php -l on every PHP file"
find integrations/wordpress -name '*.php' -print0 | sort -z | xargs -0 -n1 php -l

step "WordPress plugin: phpcs"
# The WordPress Coding Standards (WPCS) are not packaged in Debian and come
# only from Packagist through Composer, which this project's machines do not
# reach; phpcs runs them when installed, else the ruleset in phpcs.xml.dist
# (the Generic and Squiz sniffs WPCS itself builds on, WordPress's layout).
if phpcs -i | grep -q WordPress; then
  phpcs --standard=WordPress --extensions=php integrations/wordpress/nexaguard
else
  echo "WPCS is not installed: checking with integrations/wordpress/phpcs.xml.dist"
  phpcs --standard=integrations/wordpress/phpcs.xml.dist
fi

step "WordPress plugin: the browser tests' dependencies"
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  npm ci --prefix tests/browser --no-audit --no-fund
fi

step "WordPress plugin: in WordPress with the NexaGuard server and Chromium"
export NEXAGUARD_BIN="${NEXAGUARD_BIN:-$repo/target/debug/nexaguard}"
node --test --test-timeout=300000 integrations/wordpress/test/wordpress.test.mjs
