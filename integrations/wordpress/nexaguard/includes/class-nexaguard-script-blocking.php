<?php
/**
 * Script blocking: enqueued scripts the owner assigned to NexaGuard
 * categories (by handle or by URL pattern) are printed in NexaGuard's
 * blocked form, <script type="text/plain" data-nexaguard-category="...">,
 * which the SDK turns into a live script once every named category is
 * granted (docs/js-api.md, "Script blocking").
 *
 * Invariant: on the front end, a matching script never reaches the page
 * runnable: every <script> element WordPress prints for the handle (its
 * translations, its inline code before and after, the file) is blocked with
 * the same categories, also when the banner is not shown (an editor's
 * preview), so nothing of it runs without consent. Data elements
 * (application/json, importmap) are left as they are.
 *
 * @package NexaGuard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The script_loader_tag filter.
 */
final class NexaGuard_Script_Blocking {

	/**
	 * Hooks. Late, so the rewrite sees what other plugins added (async,
	 * defer, a nonce) and keeps it.
	 */
	public static function init() {
		add_filter( 'script_loader_tag', array( __CLASS__, 'filter_tag' ), PHP_INT_MAX, 3 );
	}

	/**
	 * The categories a script needs, from the first rule that matches its
	 * handle or its URL; '' when none does.
	 *
	 * @param string $handle The script's handle.
	 * @param string $src    The script's URL.
	 * @param array  $rules  The blocking rules.
	 * @return string
	 */
	public static function categories_for( $handle, $src, $rules ) {
		foreach ( $rules as $rule ) {
			if ( 'handle' === $rule['kind'] && $rule['match'] === $handle ) {
				return $rule['category'];
			}
			if ( 'url' === $rule['kind'] && '' !== (string) $src && preg_match( self::pattern_regex( $rule['match'] ), $src ) ) {
				return $rule['category'];
			}
		}
		return '';
	}

	/**
	 * A URL pattern as a regular expression: it matches a URL that contains
	 * it, "*" standing for any characters, letter case ignored.
	 *
	 * @param string $pattern The owner's pattern.
	 * @return string
	 */
	public static function pattern_regex( $pattern ) {
		return '#' . str_replace( '\*', '.*', preg_quote( $pattern, '#' ) ) . '#i';
	}

	/**
	 * The script_loader_tag filter.
	 *
	 * @param string $tag    The HTML WordPress prints for the handle.
	 * @param string $handle The handle.
	 * @param string $src    The script's URL.
	 * @return string
	 */
	public static function filter_tag( $tag, $handle, $src ) {
		if ( is_admin() ) {
			return $tag;
		}
		$options = NexaGuard_Options::get();
		if ( empty( $options['blocking'] ) || ! NexaGuard_Options::configured( $options ) ) {
			return $tag;
		}
		$categories = self::categories_for( (string) $handle, (string) $src, $options['blocking'] );
		return '' === $categories ? $tag : self::block( $tag, $categories );
	}

	/**
	 * Every <script> start tag of $tag in the blocked form: type="text/plain"
	 * and data-nexaguard-category; a type other than JavaScript's (module)
	 * moves to data-nexaguard-type, which the SDK gives the live copy.
	 *
	 * @param string $tag        HTML with one or more script elements.
	 * @param string $categories Space-separated category ids (already safe).
	 * @return string
	 */
	public static function block( $tag, $categories ) {
		return preg_replace_callback(
			'#<script\b([^>]*)>#i',
			static function ( $m ) use ( $categories ) {
				$attributes = $m[1];
				$type       = '';
				if ( preg_match( '#\stype\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))#i', $attributes, $t ) ) {
					$type       = strtolower( trim( $t[1] . ( $t[2] ?? '' ) . ( $t[3] ?? '' ) ) );
					$attributes = str_replace( $t[0], '', $attributes );
				}
				if ( in_array( $type, array( 'application/json', 'application/ld+json', 'importmap', 'text/plain', 'text/template' ), true ) ) {
					return $m[0];
				}
				$blocked = ' type="text/plain" data-nexaguard-category="' . esc_attr( $categories ) . '"';
				if ( '' !== $type && ! in_array( $type, array( 'text/javascript', 'application/javascript' ), true ) ) {
					$blocked .= ' data-nexaguard-type="' . esc_attr( $type ) . '"';
				}
				return '<script' . $blocked . $attributes . '>';
			},
			$tag
		);
	}
}
