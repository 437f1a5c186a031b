'use strict';
// Loads the compiled addon; the caller treats a failure as "not installed".
module.exports = require('./build/Release/coco_stitcher_native.node');
