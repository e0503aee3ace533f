import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  // Relative asset URLs: the same dist/ works from any static host path.
  base: './',
  plugins: [react()],
  // Serve p2panda unbundled in dev, so its worker.js and .wasm are found next to index.js.
  optimizeDeps: { exclude: ['p2panda'] },
  server: { host: '127.0.0.1' },
  build: { target: 'es2022' },
});
