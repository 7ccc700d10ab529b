<?php
/**
 * Test fixture for integrations/wordpress/test (a must-use plugin copied
 * into the throw-away WordPress only): trusts the test NexaGuard server's
 * self-signed certificate for the plugin's server-side fetch, enqueues the
 * scripts the blocking tests watch, and prints what PHP's wp_has_consent()
 * answers, so the test can read the server side of the WP Consent API.
 *
 * Invariant: it touches nothing but requests to NEXAGUARD_TEST_SERVER and
 * its own scripts and meta element; the plugin under test is unchanged.
 *
 * @package NexaGuard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

add_filter(
	'http_request_args',
	static function ( $args, $url ) {
		if ( defined( 'NEXAGUARD_TEST_SERVER' ) && str_starts_with( $url, NEXAGUARD_TEST_SERVER . '/' ) ) {
			$args['sslcertificates'] = NEXAGUARD_TEST_CA;
		}
		return $args;
	},
	10,
	2
);

add_action(
	'wp_enqueue_scripts',
	static function () {
		$base = WPMU_PLUGIN_URL . '/nexaguard-test/';
		// Blocked by handle (in <head>), with inline code after it that
		// must stay blocked too.
		wp_enqueue_script( 'nexaguard-test-analytics', $base . 'analytics.js', array(), '1', false );
		wp_add_inline_script( 'nexaguard-test-analytics', 'window.__ngTestAnalyticsAfter = (window.__ngTestAnalyticsAfter || 0) + 1;', 'after' );
		// Blocked by URL pattern (in the footer).
		wp_enqueue_script( 'nexaguard-test-marketing', $base . 'marketing.js', array(), '1', true );
		// Not blocked: a control.
		wp_enqueue_script( 'nexaguard-test-free', $base . 'free.js', array(), '1', true );
	}
);

add_action(
	'wp_head',
	static function () {
		if ( ! function_exists( 'wp_has_consent' ) ) {
			return;
		}
		$answers = array();
		foreach ( array( 'functional', 'preferences', 'statistics', 'statistics-anonymous', 'marketing' ) as $category ) {
			$answers[] = $category . '=' . ( wp_has_consent( $category ) ? 'allow' : 'deny' );
		}
		echo '<meta name="nexaguard-test-php-consent" content="' . esc_attr( implode( ',', $answers ) ) . '">' . "\n";
	},
	100
);
