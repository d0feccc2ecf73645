// The SDK packages the daemon loads. `npm run build` bundles them into dist/sdk/daemon.cjs: one file
// to read instead of ~930 modules, about half the CPU of a start's SDK load. Requiring a plugin
// registers it on WebexCore, so webex-core comes first.
const core = require('@webex/webex-core');
require('@webex/plugin-logger');
require('@webex/plugin-authorization-node');
require('@webex/internal-plugin-device');
require('@webex/internal-plugin-mercury');

module.exports = { WebexCore: core.default ?? core, common: require('@webex/common') };
