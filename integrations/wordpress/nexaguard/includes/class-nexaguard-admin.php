<?php
/**
 * The settings page (Settings > NexaGuard): server, keys, live
 * environment, language source, previews, the WP Consent API category
 * map, the script blocking table, and the state of the fetched snippet.
 *
 * Invariants: only users with manage_options see or change anything
 * (add_options_page and options.php both check it); every change goes
 * through options.php with the Settings API's nonce and the sanitize
 * callback; every value is escaped where it is printed (esc_attr,
 * esc_html, esc_url).
 *
 * @package NexaGuard
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The admin side.
 */
final class NexaGuard_Admin {

	const PAGE  = 'nexaguard';
	const GROUP = 'nexaguard';

	/**
	 * Spare empty rows under the script blocking rules, for adding rules
	 * without JavaScript.
	 */
	const SPARE_ROWS = 3;

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( NEXAGUARD_FILE ), array( __CLASS__, 'action_links' ) );
	}

	/**
	 * The option, with its sanitize callback.
	 */
	public static function register() {
		register_setting(
			self::GROUP,
			NexaGuard_Options::NAME,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( 'NexaGuard_Options', 'sanitize' ),
				'default'           => NexaGuard_Options::defaults(),
				'show_in_rest'      => false,
			)
		);
	}

	/**
	 * Settings > NexaGuard.
	 */
	public static function menu() {
		add_options_page(
			__( 'NexaGuard', 'nexaguard' ),
			__( 'NexaGuard', 'nexaguard' ),
			'manage_options',
			self::PAGE,
			array( __CLASS__, 'render' )
		);
	}

	/**
	 * A "Settings" link on the Plugins screen.
	 *
	 * @param array $links The plugin's links.
	 * @return array
	 */
	public static function action_links( $links ) {
		$url = admin_url( 'options-general.php?page=' . self::PAGE );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'nexaguard' ) . '</a>' );
		return $links;
	}

	/**
	 * The name of a form field of the option.
	 *
	 * @param string ...$path Keys below the option.
	 * @return string
	 */
	private static function field( ...$path ) {
		return NexaGuard_Options::NAME . '[' . implode( '][', $path ) . ']';
	}

	/**
	 * The page.
	 */
	public static function render() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$o = NexaGuard_Options::get();
		?>
		<div class="wrap">
			<h1><?php echo esc_html( get_admin_page_title() ); ?></h1>
			<form method="post" action="options.php" id="nexaguard-settings-form">
				<?php settings_fields( self::GROUP ); ?>
				<input type="hidden" name="<?php echo esc_attr( self::field( 'form' ) ); ?>" value="1">

				<h2><?php esc_html_e( 'Server and site', 'nexaguard' ); ?></h2>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="nexaguard-server-url"><?php esc_html_e( 'Server URL', 'nexaguard' ); ?></label></th>
						<td>
							<input type="url" class="regular-text code" id="nexaguard-server-url" name="<?php echo esc_attr( self::field( 'server_url' ) ); ?>" value="<?php echo esc_attr( $o['server_url'] ); ?>" placeholder="https://consent.example.com">
							<p class="description"><?php esc_html_e( 'The https:// address of your NexaGuard server, without a path.', 'nexaguard' ); ?></p>
						</td>
					</tr>
					<tr>
						<th scope="row"><label for="nexaguard-production-key"><?php esc_html_e( 'Production site key', 'nexaguard' ); ?></label></th>
						<td><input type="text" class="regular-text code" id="nexaguard-production-key" name="<?php echo esc_attr( self::field( 'production_key' ) ); ?>" value="<?php echo esc_attr( $o['production_key'] ); ?>" placeholder="ngp_…"></td>
					</tr>
					<tr>
						<th scope="row"><label for="nexaguard-staging-key"><?php esc_html_e( 'Staging site key', 'nexaguard' ); ?></label></th>
						<td><input type="text" class="regular-text code" id="nexaguard-staging-key" name="<?php echo esc_attr( self::field( 'staging_key' ) ); ?>" value="<?php echo esc_attr( $o['staging_key'] ); ?>" placeholder="ngs_…"></td>
					</tr>
					<tr>
						<th scope="row"><?php esc_html_e( 'Live environment', 'nexaguard' ); ?></th>
						<td>
							<fieldset>
								<?php foreach ( array( 'production' => __( 'Production', 'nexaguard' ), 'staging' => __( 'Staging', 'nexaguard' ) ) as $value => $label ) : ?>
									<label><input type="radio" name="<?php echo esc_attr( self::field( 'environment' ) ); ?>" value="<?php echo esc_attr( $value ); ?>" <?php checked( $o['environment'], $value ); ?>> <?php echo esc_html( $label ); ?></label><br>
								<?php endforeach; ?>
								<p class="description"><?php esc_html_e( 'Which key this site uses: the staging configuration while you try changes out, production otherwise.', 'nexaguard' ); ?></p>
							</fieldset>
						</td>
					</tr>
					<tr>
						<th scope="row"><?php esc_html_e( 'Banner language', 'nexaguard' ); ?></th>
						<td>
							<fieldset>
								<label><input type="radio" name="<?php echo esc_attr( self::field( 'language_source' ) ); ?>" value="wordpress" <?php checked( $o['language_source'], 'wordpress' ); ?>> <?php esc_html_e( 'The WordPress locale of the page (set as <html lang>)', 'nexaguard' ); ?></label><br>
								<label><input type="radio" name="<?php echo esc_attr( self::field( 'language_source' ) ); ?>" value="browser" <?php checked( $o['language_source'], 'browser' ); ?>> <?php esc_html_e( 'The page\'s <html lang> as the theme writes it, else the browser\'s language', 'nexaguard' ); ?></label>
							</fieldset>
						</td>
					</tr>
					<tr>
						<th scope="row"><?php esc_html_e( 'Previews', 'nexaguard' ); ?></th>
						<td>
							<label><input type="checkbox" id="nexaguard-load-when-previewing" name="<?php echo esc_attr( self::field( 'load_when_previewing' ) ); ?>" value="1" <?php checked( $o['load_when_previewing'] ); ?>> <?php esc_html_e( 'Load for logged-in editors previewing', 'nexaguard' ); ?></label>
							<p class="description"><?php esc_html_e( 'Off: post previews and the Customizer show no banner to users who can edit posts (blocked scripts stay blocked).', 'nexaguard' ); ?></p>
						</td>
					</tr>
				</table>

				<h2><?php esc_html_e( 'WP Consent API', 'nexaguard' ); ?></h2>
				<p><?php esc_html_e( 'The NexaGuard categories (custom purpose ids) that allow each WP Consent API category, separated by spaces. A category is also allowed when its IAB purposes or its Consent Mode types are granted (see the documentation); "functional" is always allowed.', 'nexaguard' ); ?></p>
				<table class="form-table" role="presentation">
					<?php foreach ( $o['consent_api_map'] as $category => $ids ) : ?>
						<tr>
							<th scope="row"><label for="<?php echo esc_attr( 'nexaguard-map-' . $category ); ?>"><?php echo esc_html( $category ); ?></label></th>
							<td><input type="text" class="regular-text code" id="<?php echo esc_attr( 'nexaguard-map-' . $category ); ?>" name="<?php echo esc_attr( self::field( 'consent_api_map', $category ) ); ?>" value="<?php echo esc_attr( $ids ); ?>"></td>
						</tr>
					<?php endforeach; ?>
				</table>

				<h2><?php esc_html_e( 'Script blocking', 'nexaguard' ); ?></h2>
				<p><?php esc_html_e( 'Enqueued scripts that run only once the visitor consented to every NexaGuard category given (ids or, on TCF sites, IAB purpose numbers, separated by spaces). Match a script by its handle, or by a URL pattern where * stands for any characters.', 'nexaguard' ); ?></p>
				<table class="widefat striped" id="nexaguard-blocking">
					<thead>
						<tr>
							<th scope="col"><?php esc_html_e( 'Match by', 'nexaguard' ); ?></th>
							<th scope="col"><?php esc_html_e( 'Handle or URL pattern', 'nexaguard' ); ?></th>
							<th scope="col"><?php esc_html_e( 'NexaGuard categories', 'nexaguard' ); ?></th>
						</tr>
					</thead>
					<tbody>
						<?php
						$rows = array_values( $o['blocking'] );
						for ( $i = 0; $i < self::SPARE_ROWS; $i++ ) {
							$rows[] = array(
								'kind'     => 'handle',
								'match'    => '',
								'category' => '',
							);
						}
						foreach ( $rows as $i => $row ) :
							$index = (string) $i;
							?>
							<tr>
								<td>
									<select name="<?php echo esc_attr( self::field( 'blocking', $index, 'kind' ) ); ?>" aria-label="<?php esc_attr_e( 'Match by', 'nexaguard' ); ?>">
										<option value="handle" <?php selected( $row['kind'], 'handle' ); ?>><?php esc_html_e( 'Script handle', 'nexaguard' ); ?></option>
										<option value="url" <?php selected( $row['kind'], 'url' ); ?>><?php esc_html_e( 'URL pattern', 'nexaguard' ); ?></option>
									</select>
								</td>
								<td><input type="text" class="regular-text code" name="<?php echo esc_attr( self::field( 'blocking', $index, 'match' ) ); ?>" value="<?php echo esc_attr( $row['match'] ); ?>" aria-label="<?php esc_attr_e( 'Handle or URL pattern', 'nexaguard' ); ?>"></td>
								<td><input type="text" class="code" name="<?php echo esc_attr( self::field( 'blocking', $index, 'category' ) ); ?>" value="<?php echo esc_attr( $row['category'] ); ?>" aria-label="<?php esc_attr_e( 'NexaGuard categories', 'nexaguard' ); ?>"></td>
							</tr>
						<?php endforeach; ?>
					</tbody>
				</table>
				<p class="description"><?php esc_html_e( 'Save to get more empty rows; clear a row to delete it.', 'nexaguard' ); ?></p>

				<?php submit_button(); ?>
			</form>
			<?php self::render_status(); ?>
		</div>
		<?php
	}

	/**
	 * The origin (scheme, host, port) of a URL.
	 *
	 * @param string $url The URL.
	 * @return string
	 */
	private static function origin( $url ) {
		$p = wp_parse_url( $url );
		return ( $p['scheme'] ?? '' ) . '://' . ( $p['host'] ?? '' ) . ( isset( $p['port'] ) ? ':' . $p['port'] : '' );
	}

	/**
	 * What the server answered for the live key: the SDK and, for a
	 * Content-Security-Policy, the stub's hash and the server's origin.
	 */
	private static function render_status() {
		$status = NexaGuard_Snippet::status();
		?>
		<h2><?php esc_html_e( 'Snippet', 'nexaguard' ); ?></h2>
		<table class="form-table" role="presentation" id="nexaguard-status">
			<?php if ( '' === $status['url'] ) : ?>
				<tr><td><?php esc_html_e( 'Not configured: save the server URL and the key of the live environment.', 'nexaguard' ); ?></td></tr>
			<?php else : ?>
				<tr><th scope="row"><?php esc_html_e( 'Fetched from', 'nexaguard' ); ?></th><td><code><?php echo esc_html( $status['url'] ); ?></code></td></tr>
				<?php if ( $status['snippet'] ) : ?>
					<tr><th scope="row"><?php esc_html_e( 'SDK', 'nexaguard' ); ?></th><td><code><?php echo esc_html( $status['snippet']['settings']['sdkUrl'] ); ?></code><br><code><?php echo esc_html( $status['snippet']['settings']['integrity'] ); ?></code></td></tr>
					<tr><th scope="row"><?php esc_html_e( 'CSP script-src', 'nexaguard' ); ?></th><td><code data-nexaguard-stub-hash><?php echo esc_html( "'" . $status['snippet']['stub_hash'] . "'" ); ?></code> <code><?php echo esc_html( self::origin( $status['snippet']['settings']['sdkUrl'] ) ); ?></code></td></tr>
				<?php endif; ?>
				<?php if ( '' !== $status['error'] ) : ?>
					<tr><th scope="row"><?php esc_html_e( 'Last error', 'nexaguard' ); ?></th><td id="nexaguard-status-error"><?php echo esc_html( $status['error'] ); ?><?php echo $status['snippet'] ? ' ' . esc_html__( '(the last snippet fetched is used meanwhile)', 'nexaguard' ) : ''; ?></td></tr>
				<?php endif; ?>
			<?php endif; ?>
		</table>
		<?php
	}
}
