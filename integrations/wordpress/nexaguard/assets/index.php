<?php
/**
 * Empty on purpose: a web server that lists folders shows nothing here.
 *
 * @package NexaGuard
 */
