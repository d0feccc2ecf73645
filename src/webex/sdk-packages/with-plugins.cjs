// The daemon's packages plus the SDK's public plugins, for a plain SDK user (the test kits' bots).
// Bundled on its own into dist/sdk/with-plugins.cjs, with a WebexCore of its own: the daemon's never
// carries these plugins.
const sdk = require('./daemon.cjs');
require('@webex/plugin-people');
require('@webex/plugin-rooms');
require('@webex/plugin-messages');
require('@webex/plugin-attachment-actions');

module.exports = sdk;
