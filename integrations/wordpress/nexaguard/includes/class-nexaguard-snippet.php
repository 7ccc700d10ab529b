<?php
/**
 * NexaGuard's installation snippet in the front end's <head>: fetched from
 * the server (GET /v1/sites/{key}/snippet.html), checked, cached, and
 * printed first of everything wp_head prints.
 *
 * Invariants: the stub is printed byte for byte as the server serves it, so
 * the CSP hash the server gives for it (x-nexaguard-stub-hash) holds; the
 * settings JSON is printed only after it was parsed and its fields checked,
 * re-encoded with "<" escaped, so nothing fetched can end the element early;
 * a page never waits for the server more than once per cache period, and a
 * server that cannot be reached leaves the last good snippet in place.
 *
 * @package NexaGuard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The snippet: fetching, caching and printing.
 */
final class NexaGuard_Snippet {

	/**
	 * Transient with the snippet in force: array( url, snippet|null, error, checked ).
	 */
	const CACHE = 'nexaguard_snippet';

	/**
	 * Option with the last snippet the server gave (not autoloaded): used
	 * when a refresh fails, so that a server restart does not drop the banner.
	 */
	const LAST_GOOD = 'nexaguard_snippet_last_good';

	/**
	 * Seconds before a failed fetch is tried again.
	 */
	const RETRY_SECONDS = 300;

	/**
	 * Hooks.
	 */
	public static function init() {
		// Before everything else in <head>: the stub sets the Consent Mode
		// defaults and __tcfapi before any tag can look for them.
		add_action( 'wp_head', array( __CLASS__, 'print_snippet' ), PHP_INT_MIN );
		add_filter( 'language_attributes', array( __CLASS__, 'language_attributes' ), 20 );
		add_action( 'add_option_' . NexaGuard_Options::NAME, array( __CLASS__, 'forget' ) );
		add_action( 'update_option_' . NexaGuard_Options::NAME, array( __CLASS__, 'forget' ) );
	}

	/**
	 * Whether this request gets NexaGuard: a front-end page, the plugin
	 * configured, and not an editor's preview the settings leave out.
	 *
	 * @return bool
	 */
	public static function active() {
		if ( is_admin() || is_feed() || ! NexaGuard_Options::configured() ) {
			return false;
		}
		return ! self::excluded_preview();
	}

	/**
	 * An editor previewing (a post preview or the Customizer) while the
	 * settings say not to load NexaGuard for them.
	 *
	 * @return bool
	 */
	public static function excluded_preview() {
		$options = NexaGuard_Options::get();
		if ( $options['load_when_previewing'] ) {
			return false;
		}
		return ( is_preview() || is_customize_preview() ) && current_user_can( 'edit_posts' );
	}

	/**
	 * The URL of the snippet of the live environment.
	 *
	 * @param array $options The option.
	 * @return string
	 */
	public static function url( $options ) {
		return $options['server_url'] . '/v1/sites/' . rawurlencode( NexaGuard_Options::live_key( $options ) ) . '/snippet.html';
	}

	/**
	 * Prints the settings JSON and the stub (wp_head).
	 */
	public static function print_snippet() {
		if ( ! self::active() ) {
			return;
		}
		$snippet = self::current();
		if ( ! $snippet ) {
			echo "<!-- NexaGuard: the snippet is not available; see Settings > NexaGuard -->\n";
			return;
		}
		/**
		 * Filters the settings the stub reads (#nexaguard-settings), for
		 * instance to add "region" where the site knows the visitor's region.
		 *
		 * @param array $settings The server's settings for the live key.
		 */
		$settings = apply_filters( 'nexaguard_snippet_settings', $snippet['settings'] );
		$json     = wp_json_encode( $settings, JSON_UNESCAPED_SLASHES | JSON_HEX_TAG | JSON_HEX_AMP );
		// Attributes through WordPress's filter, so a CSP plugin can add its
		// nonce; the stub's text itself is left exactly as served.
		$attributes = apply_filters( 'wp_inline_script_attributes', array(), $snippet['stub'] );
		// phpcs:disable WordPress.Security.EscapeOutput.OutputNotEscaped -- JSON with < and & escaped (JSON_HEX_TAG, JSON_HEX_AMP), and the stub, checked in parse() to hold no "</script"; escaping either would change what the browser runs.
		echo '<script type="application/json" id="nexaguard-settings">' . $json . "</script>\n";
		echo '<script' . wp_sanitize_script_attributes( $attributes ) . '>' . $snippet['stub'] . "</script>\n";
		// phpcs:enable
	}

	/**
	 * The snippet in force: the cached one, else a fresh fetch, else the
	 * last good one of the same URL; null when there is none.
	 *
	 * @return array|null array( settings, stub, stub_hash )
	 */
	public static function current() {
		$options = NexaGuard_Options::get();
		$url     = self::url( $options );
		$cached  = get_transient( self::CACHE );
		if ( is_array( $cached ) && ( $cached['url'] ?? '' ) === $url ) {
			return $cached['snippet'];
		}
		return self::refresh( $options );
	}

	/**
	 * Fetches the snippet now and caches the outcome.
	 *
	 * @param array $options The option.
	 * @return array|null The snippet in force afterwards.
	 */
	public static function refresh( $options ) {
		$url    = self::url( $options );
		$result = self::fetch( $url, $options );
		if ( is_wp_error( $result ) ) {
			$last    = get_option( self::LAST_GOOD );
			$snippet = is_array( $last ) && ( $last['url'] ?? '' ) === $url ? $last['snippet'] : null;
			self::cache( $url, $snippet, $result->get_error_message(), self::RETRY_SECONDS );
			return $snippet;
		}
		update_option(
			self::LAST_GOOD,
			array(
				'url'     => $url,
				'snippet' => $result,
				'fetched' => time(),
			),
			false
		);
		/**
		 * Filters how long (seconds) a fetched snippet is used before it is
		 * fetched again. The server changes it when the site's Consent Mode
		 * defaults are published anew and when it is upgraded (a new SDK URL).
		 *
		 * @param int $seconds Default 600.
		 */
		$ttl = (int) apply_filters( 'nexaguard_snippet_ttl', 10 * MINUTE_IN_SECONDS );
		self::cache( $url, $result, '', max( 60, $ttl ) );
		return $result;
	}

	/**
	 * Stores the outcome of a fetch in the transient.
	 *
	 * @param string     $url     The snippet URL.
	 * @param array|null $snippet The snippet in force.
	 * @param string     $error   Why the last fetch failed, or ''.
	 * @param int        $ttl     Seconds.
	 */
	private static function cache( $url, $snippet, $error, $ttl ) {
		set_transient(
			self::CACHE,
			array(
				'url'     => $url,
				'snippet' => $snippet,
				'error'   => $error,
				'checked' => time(),
			),
			$ttl
		);
	}

	/**
	 * Forgets the cached snippet (the settings changed).
	 */
	public static function forget() {
		delete_transient( self::CACHE );
	}

	/**
	 * What the settings page shows: the snippet in force, the last error.
	 *
	 * @return array array( url, snippet|null, error, checked )
	 */
	public static function status() {
		$options = NexaGuard_Options::get();
		if ( ! NexaGuard_Options::configured( $options ) ) {
			return array(
				'url'     => '',
				'snippet' => null,
				'error'   => '',
				'checked' => 0,
			);
		}
		self::current();
		$cached = get_transient( self::CACHE );
		return is_array( $cached ) ? $cached : array(
			'url'     => self::url( $options ),
			'snippet' => null,
			'error'   => '',
			'checked' => 0,
		);
	}

	/**
	 * GET the snippet and parse it.
	 *
	 * @param string $url     The snippet URL.
	 * @param array  $options The option.
	 * @return array|WP_Error
	 */
	private static function fetch( $url, $options ) {
		$response = wp_remote_get(
			$url,
			array(
				'timeout'     => 5,
				'redirection' => 0,
				'headers'     => array( 'Accept' => 'text/plain' ),
			)
		);
		if ( is_wp_error( $response ) ) {
			return $response;
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $code ) {
			/* translators: %d: HTTP status code */
			return new WP_Error( 'nexaguard_http', sprintf( __( 'The server answered HTTP %d (is the site key right, and is a configuration published to that environment?).', 'nexaguard' ), $code ) );
		}
		return self::parse( wp_remote_retrieve_body( $response ), NexaGuard_Options::live_key( $options ) );
	}

	/**
	 * Splits the server's snippet into its settings and its stub, and checks
	 * both: the snippet must be exactly the two elements the server writes
	 * (docs/csp.md), for this key, with an https SDK URL and an SRI hash.
	 *
	 * @param string $body The snippet.
	 * @param string $key  The site key it must be for.
	 * @return array|WP_Error array( settings, stub, stub_hash )
	 */
	public static function parse( $body, $key ) {
		$wrong = new WP_Error( 'nexaguard_snippet', __( 'The server did not answer with a NexaGuard snippet.', 'nexaguard' ) );
		if ( ! preg_match( '#^<script type="application/json" id="nexaguard-settings">(.*?)</script>\n<script>(.*)</script>\n?$#s', $body, $m ) ) {
			return $wrong;
		}
		$settings = json_decode( $m[1], true );
		$stub     = $m[2];
		if ( ! is_array( $settings ) || ( $settings['siteKey'] ?? null ) !== $key ) {
			return $wrong;
		}
		$sdk = $settings['sdkUrl'] ?? '';
		if ( ! is_string( $sdk ) || ! preg_match( '#^https://[^/?\#\s"<>]+/sdk/[^\s"<>]+$#', $sdk ) ) {
			return $wrong;
		}
		if ( ! is_string( $settings['integrity'] ?? null ) || ! preg_match( '#^sha384-[A-Za-z0-9+/]+={0,2}$#', $settings['integrity'] ) ) {
			return $wrong;
		}
		if ( false !== stripos( $stub, '</script' ) || false !== strpos( $stub, '<!--' ) ) {
			return $wrong;
		}
		return array(
			'settings'  => $settings,
			'stub'      => $stub,
			// What a Content-Security-Policy must allow for the stub.
			'stub_hash' => 'sha256-' . base64_encode( hash( 'sha256', $stub, true ) ), // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- a CSP hash source is base64 by definition.
		);
	}

	/**
	 * With the language source "wordpress", <html lang> carries the locale
	 * WordPress renders the page in, which the stub and the SDK read first
	 * when they ask for the banner's language.
	 *
	 * @param string $output The attributes of <html>.
	 * @return string
	 */
	public static function language_attributes( $output ) {
		if ( is_admin() || ! self::active() || 'wordpress' !== NexaGuard_Options::get()['language_source'] ) {
			return $output;
		}
		$attribute = 'lang="' . esc_attr( str_replace( '_', '-', determine_locale() ) ) . '"';
		$pattern   = '/(?<![\w:-])lang="[^"]*"/';
		if ( preg_match( $pattern, $output ) ) {
			return preg_replace( $pattern, $attribute, $output, 1 );
		}
		return trim( $output . ' ' . $attribute );
	}
}
