<?php
/**
 * Runs when the plugin is deleted from the Plugins screen: removes every
 * option and transient the plugin wrote, on every site of a network.
 *
 * Invariant: after uninstalling, the database holds nothing of NexaGuard's
 * (the consent records live on the NexaGuard server, not here).
 *
 * @package NexaGuard
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

/**
 * Deletes the plugin's data of the current site.
 */
function nexaguard_uninstall_site() {
	delete_option( 'nexaguard_settings' );
	delete_option( 'nexaguard_snippet_last_good' );
	delete_transient( 'nexaguard_snippet' );
}

if ( is_multisite() ) {
	foreach ( get_sites( array( 'fields' => 'ids' ) ) as $nexaguard_site_id ) {
		switch_to_blog( $nexaguard_site_id );
		nexaguard_uninstall_site();
		restore_current_blog();
	}
} else {
	nexaguard_uninstall_site();
}
