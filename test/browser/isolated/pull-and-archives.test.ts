/**
 * The registry-pull and archive-loading tests again, in a cross-origin isolated page
 * (COOP/COEP): a CORS registry answer is still readable under `require-corp`, and what is
 * pulled or loaded runs over the SharedArrayBuffer bridge.
 */
import '../test/registry-pull.test.js';
import '../test/archive-load.test.js';
