<?php
/**
 * The WP Consent API integration: NexaGuard registers as the consent
 * provider, says consent is opt-in until the page knows the visitor's
 * region, and loads assets/js/nexaguard-wp-consent.js, which sets the
 * API's categories from NexaGuard's choice (wp_set_consent) and the consent
 * type from the region's experience.
 *
 * Invariant: nothing here acts unless the WP Consent API is active and
 * NexaGuard is on the page; server-side, without a stored category cookie,
 * the API then answers "no consent" (opt-in) rather than "consent".
 *
 * @package NexaGuard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Hooks of the WP Consent API.
 */
final class NexaGuard_Consent_API {

	/**
	 * Hooks.
	 *
	 * @param string $basename This plugin's basename (nexaguard/nexaguard.php).
	 */
	public static function init( $basename ) {
		// The API's registration: plugins that set cookies list the consent
		// provider on Site Health as compliant.
		add_filter( "wp_consent_api_registered_{$basename}", '__return_true' );
		add_filter( 'wp_get_consent_type', array( __CLASS__, 'consent_type' ) );
		add_filter( 'wp_has_consent', array( __CLASS__, 'functional' ), 10, 2 );
		// The consent type is known in the page only once the region is:
		// plugins should wait for the wp_consent_type_defined event.
		add_filter( 'wp_consent_api_waitfor_consent_hook', array( __CLASS__, 'wait_for_type' ) );
		add_action( 'wp_head', array( __CLASS__, 'print_map' ), PHP_INT_MIN + 1 );
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'enqueue' ), PHP_INT_MAX );
	}

	/**
	 * Whether the API is there and NexaGuard runs on this page.
	 *
	 * @return bool
	 */
	public static function applies() {
		return class_exists( 'WP_Consent_API' ) && NexaGuard_Snippet::active();
	}

	/**
	 * The wp_get_consent_type filter: "optin" wherever NexaGuard is set up.
	 * The server cannot tell the visitor's region here (the SDK asks for it),
	 * so PHP plugins get the cautious answer; once the page has loaded, the
	 * category cookies written from the choice (or from an opt-out region's
	 * state) are what they read.
	 *
	 * @param string|false $type The type so far.
	 * @return string|false
	 */
	public static function consent_type( $type ) {
		return NexaGuard_Options::configured() && ! is_admin() ? 'optin' : $type;
	}

	/**
	 * The wp_has_consent filter: "functional" is strictly necessary storage
	 * in the API's terms, which needs no consent, also before the page's
	 * script has written its cookie.
	 *
	 * @param bool   $has      The API's answer.
	 * @param string $category The category asked about.
	 * @return bool
	 */
	public static function functional( $has, $category ) {
		return 'functional' === $category && NexaGuard_Options::configured() ? true : $has;
	}

	/**
	 * The wp_consent_api_waitfor_consent_hook filter.
	 *
	 * @param bool $wait The value so far.
	 * @return bool
	 */
	public static function wait_for_type( $wait ) {
		return self::applies() ? true : $wait;
	}

	/**
	 * Prints the category map the script reads, as data (CSP does not
	 * govern it), right after the snippet.
	 */
	public static function print_map() {
		if ( ! self::applies() ) {
			return;
		}
		$options = NexaGuard_Options::get();
		$map     = array();
		foreach ( $options['consent_api_map'] as $category => $ids ) {
			$map[ $category ] = '' === $ids ? array() : explode( ' ', $ids );
		}
		$json = wp_json_encode( array( 'categories' => $map ), JSON_UNESCAPED_SLASHES | JSON_HEX_TAG | JSON_HEX_AMP );
		echo '<script type="application/json" id="nexaguard-wp">' . $json . "</script>\n"; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- JSON with < and & escaped.
	}

	/**
	 * Enqueues the mapping script after the API's (which the API enqueues
	 * late, in the footer, so that consent plugins can depend on it).
	 */
	public static function enqueue() {
		if ( ! self::applies() ) {
			return;
		}
		wp_enqueue_script(
			'nexaguard-wp-consent',
			plugins_url( 'assets/js/nexaguard-wp-consent.js', NEXAGUARD_FILE ),
			array( 'wp-consent-api' ),
			NEXAGUARD_VERSION,
			true
		);
	}
}
