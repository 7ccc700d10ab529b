// The admin console's one script: progressive enhancement only; every page
// works with forms alone.
'use strict';
