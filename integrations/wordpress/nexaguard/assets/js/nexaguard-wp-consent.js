/**
 * NexaGuard -> WP Consent API: sets the API's five categories from the
 * NexaGuard choice in force (on page load and after every choice) with
 * wp_set_consent(), and the API's consent type from the experience
 * NexaGuard's server gives the visitor's region.
 *
 * Invariant: a WP Consent API category is "allow" only when NexaGuard's
 * state grants it by one of the rules below, and every choice writes all
 * five categories, so a withdrawal is never left standing as "allow".
 *
 * A category is allowed when any of:
 *   - one of the NexaGuard categories the settings map to it is granted;
 *   - (TCF) every IAB purpose of IAB_PURPOSES[category] has consent;
 *   - every Consent Mode type of CONSENT_MODE[category] is granted.
 * "functional" (strictly necessary in the API's terms) is always allowed.
 *
 * Loaded in the footer after the API's script (wp-consent-api), whose
 * wp_set_consent() it calls; plain ES5, like the API's own script.
 *
 * @package NexaGuard
 */
(function () {
	'use strict';

	var w = window;
	var d = document;

	var CATEGORIES = [ 'functional', 'preferences', 'statistics', 'statistics-anonymous', 'marketing' ];

	// IAB TCF purposes: 1 store/access information on a device, 2 limited
	// data for ads, 3-4 ad profiles, 8 measure content, 9 audience statistics.
	var IAB_PURPOSES = {
		preferences: [ 1 ],
		statistics: [ 1, 8, 9 ],
		'statistics-anonymous': [ 1, 8 ],
		marketing: [ 1, 2, 3, 4 ]
	};

	var CONSENT_MODE = {
		preferences: [ 'personalization_storage' ],
		statistics: [ 'analytics_storage' ],
		'statistics-anonymous': [ 'analytics_storage' ],
		marketing: [ 'ad_storage', 'ad_user_data', 'ad_personalization' ]
	};

	// NexaGuard experiences that ask before anything runs.
	var OPT_IN = { tcf: true, opt_in: true };

	function json( id ) {
		var el = d.getElementById( id );
		try {
			return el ? JSON.parse( el.textContent ) || {} : {};
		} catch ( e ) {
			return {};
		}
	}

	var settings = json( 'nexaguard-settings' );
	var names = json( 'nexaguard-wp' ).categories || {};

	function has( list, value ) {
		return !! list && list.indexOf( value ) !== -1;
	}

	function every( list, test ) {
		for ( var i = 0; i < list.length; i++ ) {
			if ( ! test( list[ i ] ) ) {
				return false;
			}
		}
		return list.length > 0;
	}

	/** Whether the NexaGuard state `s` allows WP Consent API category `c`. */
	function allows( s, c ) {
		if ( c === 'functional' ) {
			return true;
		}
		var ids = names[ c ] || [];
		for ( var i = 0; i < ids.length; i++ ) {
			if ( has( s.categories, ids[ i ] ) ) {
				return true;
			}
		}
		if ( every( IAB_PURPOSES[ c ], function ( p ) { return has( s.purposes, p ); } ) ) {
			return true;
		}
		var mode = s.consentMode || {};
		return every( CONSENT_MODE[ c ], function ( t ) { return mode[ t ] === 'granted'; } );
	}

	/** Writes all five categories from state `s` (a NexaGuard ConsentState). */
	function apply( s ) {
		if ( ! s || typeof w.wp_set_consent !== 'function' ) {
			return;
		}
		for ( var i = 0; i < CATEGORIES.length; i++ ) {
			// The API fires wp_listen_for_consent_change only on a change.
			w.wp_set_consent( CATEGORIES[ i ], allows( s, CATEGORIES[ i ] ) ? 'allow' : 'deny' );
		}
	}

	/** Sets the API's consent type and tells the plugins waiting for it. */
	function defineType( type ) {
		w.wp_consent_type = type;
		var event;
		try {
			event = new CustomEvent( 'wp_consent_type_defined' );
		} catch ( e ) {
			event = d.createEvent( 'Event' );
			event.initEvent( 'wp_consent_type_defined', true, true );
		}
		d.dispatchEvent( event );
	}

	/**
	 * The consent type of the visitor's region: the region answer's
	 * experience, asked as the SDK asks it (a staging page's
	 * ?nexaguard_region= first, then the region the settings declare), and
	 * kept for the tab's session so that later pages need no request. When
	 * the answer cannot be had, the type the server printed (optin) is
	 * declared all the same, so plugins waiting for it are not left waiting.
	 */
	function consentType() {
		var fallback = function () {
			defineType( w.wp_fallback_consent_type || 'optin' );
		};
		var base;
		try {
			base = new URL( settings.sdkUrl ).origin;
		} catch ( e ) {
			fallback();
			return;
		}
		var m = /[?&]nexaguard_region=([^&#]*)/.exec( w.location.search );
		var query = m ? '?nexaguard_region=' + m[ 1 ] : settings.region ? '?region=' + encodeURIComponent( settings.region ) : '';
		var url = base + '/v1/sites/' + encodeURIComponent( settings.siteKey ) + '/region' + query;
		var key = 'nexaguard-wp-consent-type:' + url;
		var known = null;
		try {
			known = w.sessionStorage.getItem( key );
		} catch ( e ) {
			// storage blocked: ask every time
		}
		if ( known ) {
			defineType( known );
			return;
		}
		if ( typeof fetch !== 'function' ) {
			fallback();
			return;
		}
		fetch( url, { credentials: 'omit' } )
			.then( function ( r ) { return r.ok ? r.json() : null; } )
			.then( function ( answer ) {
				var kind = answer && answer.experience && answer.experience.experience && answer.experience.experience.kind;
				if ( ! kind ) {
					fallback();
					return;
				}
				var type = OPT_IN[ kind ] ? 'optin' : 'optout';
				try {
					w.sessionStorage.setItem( key, type );
				} catch ( e ) {
					// storage blocked
				}
				defineType( type );
			} )
			[ 'catch' ]( fallback );
	}

	/** The state in force once the SDK is ready (a stored choice, an opt-out region's). */
	function fromSdk() {
		var api = w.NexaGuard;
		if ( ! api || typeof api.ready !== 'function' ) {
			return;
		}
		api.ready().then( function () {
			apply( api.getConsent() );
		} );
	}

	// Every choice, and the page-load event of a stored choice when the SDK
	// runs after this script.
	d.addEventListener( 'nexaguard:consent', function ( e ) {
		apply( e.detail );
	} );

	if ( w.NexaGuard ) {
		fromSdk();
	} else {
		// The stub inserted the SDK's script (async) in <head>.
		var sdk = settings.sdkUrl && d.querySelector( 'script[data-site-key][src]' );
		if ( sdk ) {
			sdk.addEventListener( 'load', fromSdk );
		}
	}

	if ( settings.siteKey ) {
		// Strictly necessary in the API's terms: allowed before any choice.
		if ( typeof w.wp_set_consent === 'function' ) {
			w.wp_set_consent( 'functional', 'allow' );
		}
		consentType();
	}
}());
