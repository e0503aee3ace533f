// The node's Worker: loads the same WebAssembly module as the page and serves the node.
// No top-level await, so bundlers may emit it in any worker format.
import init, { runWorker } from './p2panda_wasm.js';

// Messages that arrive while the module loads wait here and are handed over once it runs.
const early = [];
self.onmessage = (event) => early.push(event);

init().then(() => {
  runWorker();
  for (const event of early) self.onmessage(event);
});
