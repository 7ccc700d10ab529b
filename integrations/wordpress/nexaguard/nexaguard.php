<?php
/**
 * NexaGuard for WordPress: the plugin's main file (header, constants,
 * loading of its parts).
 *
 * Invariant: the plugin does nothing on the front end until a server URL and
 * the key of the live environment are saved; from then on every front-end
 * page carries NexaGuard's snippet first in <head> (unless an editor is
 * previewing and the settings say not to).
 *
 * Licence: this plugin directory is GPL-2.0-or-later, as WordPress plugins
 * are; the rest of the NexaGuard project is Apache-2.0, which is compatible
 * with GPLv3 and so with "GPL-2.0-or-later" taken as GPLv3.
 *
 * @package NexaGuard
 *
 * @wordpress-plugin
 * Plugin Name:       NexaGuard Consent
 * Description:       Shows the NexaGuard consent banner, blocks chosen scripts until consent, and shares the visitor's choice through the WP Consent API.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * Author:            NexaGuard contributors
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       nexaguard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'NEXAGUARD_VERSION', '0.1.0' );
define( 'NEXAGUARD_FILE', __FILE__ );
define( 'NEXAGUARD_DIR', plugin_dir_path( __FILE__ ) );

require_once NEXAGUARD_DIR . 'includes/class-nexaguard-options.php';
require_once NEXAGUARD_DIR . 'includes/class-nexaguard-snippet.php';
require_once NEXAGUARD_DIR . 'includes/class-nexaguard-script-blocking.php';
require_once NEXAGUARD_DIR . 'includes/class-nexaguard-consent-api.php';
require_once NEXAGUARD_DIR . 'includes/class-nexaguard-admin.php';

NexaGuard_Snippet::init();
NexaGuard_Script_Blocking::init();
NexaGuard_Consent_API::init( plugin_basename( __FILE__ ) );

if ( is_admin() ) {
	NexaGuard_Admin::init();
}
