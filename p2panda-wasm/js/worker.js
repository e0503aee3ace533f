// The node's Worker: loads the same WebAssembly module as the page and serves the node.
import init, { runWorker } from './p2panda_wasm.js';

// Messages that arrive while the module loads are queued by the browser only once `onmessage`
// is set, so hold them here and hand them over when the node is ready.
const early = [];
self.onmessage = (event) => early.push(event);

await init();
runWorker();
for (const event of early) self.onmessage(event);
