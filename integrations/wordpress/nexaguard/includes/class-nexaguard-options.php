<?php
/**
 * The plugin's one option (nexaguard_settings): its defaults, reading it,
 * and the sanitize callback register_setting() runs on every save.
 *
 * Invariant: what is stored is always valid: an https origin (or nothing),
 * keys of the right environment's form, known choices, category ids of safe
 * characters. A value that fails its check is refused with a settings error
 * and the stored one is kept, so a typo never switches the banner off.
 *
 * @package NexaGuard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The nexaguard_settings option.
 */
final class NexaGuard_Options {

	const NAME = 'nexaguard_settings';

	/**
	 * The WP Consent API categories NexaGuard sets, in the API's order.
	 */
	const CONSENT_API_CATEGORIES = array( 'functional', 'preferences', 'statistics', 'statistics-anonymous', 'marketing' );

	/**
	 * At most this many script blocking rules; more is a mistake, and each
	 * one is a regular expression tried on every script tag.
	 */
	const MAX_RULES = 100;

	/**
	 * The option before anything was saved.
	 *
	 * @return array
	 */
	public static function defaults() {
		return array(
			'server_url'           => '',
			'production_key'       => '',
			'staging_key'          => '',
			'environment'          => 'production',
			'language_source'      => 'wordpress',
			'load_when_previewing' => false,
			// NexaGuard category ids (custom purpose ids) whose consent allows
			// each WP Consent API category; functional is always allowed.
			'consent_api_map'      => array(
				'preferences'          => 'preferences functional functionality personalization',
				'statistics'           => 'analytics statistics',
				'statistics-anonymous' => 'analytics statistics statistics-anonymous',
				'marketing'            => 'marketing advertising ads',
			),
			'blocking'             => array(),
		);
	}

	/**
	 * The stored option over the defaults.
	 *
	 * @return array
	 */
	public static function get() {
		$stored = get_option( self::NAME, array() );
		if ( ! is_array( $stored ) ) {
			$stored = array();
		}
		$options                    = array_merge( self::defaults(), $stored );
		$options['consent_api_map'] = array_merge( self::defaults()['consent_api_map'], (array) $options['consent_api_map'] );
		return $options;
	}

	/**
	 * The key of the environment the settings say is live, or '' when none.
	 *
	 * @param array|null $options The option (read when null).
	 * @return string
	 */
	public static function live_key( $options = null ) {
		$options = $options ?? self::get();
		return 'staging' === $options['environment'] ? $options['staging_key'] : $options['production_key'];
	}

	/**
	 * Whether the plugin has what it needs to put NexaGuard on the front end.
	 *
	 * @param array|null $options The option (read when null).
	 * @return bool
	 */
	public static function configured( $options = null ) {
		$options = $options ?? self::get();
		return '' !== $options['server_url'] && '' !== self::live_key( $options );
	}

	/**
	 * The sanitize callback of register_setting(). WordPress may call it
	 * twice on the first save (add_option runs it again), so it must accept
	 * its own output unchanged.
	 *
	 * @param mixed $input The submitted values.
	 * @return array
	 */
	public static function sanitize( $input ) {
		$old   = self::get();
		$input = is_array( $input ) ? $input : array();
		$out   = $old;

		if ( isset( $input['server_url'] ) ) {
			$url = self::sanitize_server_url( (string) $input['server_url'] );
			if ( null === $url ) {
				self::error( 'server_url', __( 'The server URL must be an https:// address with no path, such as https://consent.example.com. The previous value was kept.', 'nexaguard' ) );
			} else {
				$out['server_url'] = $url;
			}
		}

		foreach ( array(
			'production_key' => 'ngp_',
			'staging_key'    => 'ngs_',
		) as $field => $prefix ) {
			if ( ! isset( $input[ $field ] ) ) {
				continue;
			}
			$key = trim( sanitize_text_field( (string) $input[ $field ] ) );
			if ( '' === $key || preg_match( '/^' . $prefix . '[A-Za-z0-9]{16,64}$/', $key ) ) {
				$out[ $field ] = $key;
			} else {
				/* translators: %s: the key prefix, ngp_ or ngs_ */
				self::error( $field, sprintf( __( 'A site key of this environment starts with %s followed by letters and digits. The previous value was kept.', 'nexaguard' ), $prefix ) );
			}
		}

		if ( isset( $input['environment'] ) && in_array( $input['environment'], array( 'production', 'staging' ), true ) ) {
			$out['environment'] = $input['environment'];
		}
		if ( isset( $input['language_source'] ) && in_array( $input['language_source'], array( 'wordpress', 'browser' ), true ) ) {
			$out['language_source'] = $input['language_source'];
		}
		// A checkbox is absent when unticked: only a form that shows it (it
		// sends the marker field) may turn it off.
		if ( isset( $input['form'] ) || isset( $input['load_when_previewing'] ) ) {
			$out['load_when_previewing'] = ! empty( $input['load_when_previewing'] );
		}

		if ( isset( $input['consent_api_map'] ) && is_array( $input['consent_api_map'] ) ) {
			foreach ( array_keys( self::defaults()['consent_api_map'] ) as $category ) {
				if ( isset( $input['consent_api_map'][ $category ] ) ) {
					$ids = self::sanitize_categories( (string) $input['consent_api_map'][ $category ] );
					if ( null === $ids ) {
						self::error( 'consent_api_map', __( 'NexaGuard category ids are letters, digits, "-", "_" and ".", separated by spaces or commas. The previous value was kept.', 'nexaguard' ) );
					} else {
						$out['consent_api_map'][ $category ] = $ids;
					}
				}
			}
		}

		if ( isset( $input['blocking'] ) && is_array( $input['blocking'] ) ) {
			$out['blocking'] = self::sanitize_rules( $input['blocking'] );
		}

		return $out;
	}

	/**
	 * An https origin (scheme, host, port) from what the owner typed, or
	 * null when it is not one. The SDK and the API are at the origin, so a
	 * path would only be a mistake.
	 *
	 * @param string $value The submitted URL.
	 * @return string|null
	 */
	public static function sanitize_server_url( $value ) {
		$value = trim( $value );
		if ( '' === $value ) {
			return '';
		}
		$parts = wp_parse_url( $value );
		if ( ! is_array( $parts ) || 'https' !== strtolower( $parts['scheme'] ?? '' ) || empty( $parts['host'] )
			|| isset( $parts['user'] ) || isset( $parts['pass'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] )
			|| ( isset( $parts['path'] ) && '/' !== $parts['path'] ) ) {
			return null;
		}
		$host = strtolower( $parts['host'] );
		if ( ! preg_match( '/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/', $host ) ) {
			return null;
		}
		return 'https://' . $host . ( isset( $parts['port'] ) ? ':' . (int) $parts['port'] : '' );
	}

	/**
	 * Category ids as one space-separated string, or null when one has a
	 * character the SDK's attribute syntax or HTML could trip on.
	 *
	 * @param string $value Ids separated by spaces or commas.
	 * @return string|null
	 */
	public static function sanitize_categories( $value ) {
		$ids = preg_split( '/[\s,]+/', trim( $value ), -1, PREG_SPLIT_NO_EMPTY );
		foreach ( $ids as $id ) {
			if ( ! preg_match( '/^[A-Za-z0-9_.-]{1,64}$/', $id ) ) {
				return null;
			}
		}
		return implode( ' ', array_unique( $ids ) );
	}

	/**
	 * The script blocking table: rows with a handle or URL pattern and the
	 * categories it needs; empty rows (the form's spare ones) are dropped.
	 *
	 * @param array $rows Submitted rows.
	 * @return array
	 */
	private static function sanitize_rules( $rows ) {
		$rules = array();
		foreach ( $rows as $row ) {
			if ( ! is_array( $row ) ) {
				continue;
			}
			$kind     = isset( $row['kind'] ) && 'url' === $row['kind'] ? 'url' : 'handle';
			$match    = trim( sanitize_text_field( (string) ( $row['match'] ?? '' ) ) );
			$category = self::sanitize_categories( (string) ( $row['category'] ?? '' ) );
			if ( '' === $match && ( '' === $category || null === $category ) ) {
				continue;
			}
			if ( '' === $match || null === $category || '' === $category ) {
				self::error( 'blocking', __( 'Each script blocking row needs a handle or URL pattern and at least one NexaGuard category (letters, digits, "-", "_", "."). Incomplete rows were dropped.', 'nexaguard' ) );
				continue;
			}
			$rules[] = array(
				'kind'     => $kind,
				'match'    => $match,
				'category' => $category,
			);
			if ( count( $rules ) >= self::MAX_RULES ) {
				break;
			}
		}
		return $rules;
	}

	/**
	 * Reports a refused value on the settings page.
	 *
	 * @param string $code    Field.
	 * @param string $message What was wrong.
	 */
	private static function error( $code, $message ) {
		if ( function_exists( 'add_settings_error' ) ) {
			add_settings_error( self::NAME, 'nexaguard_' . $code, $message );
		}
	}
}
