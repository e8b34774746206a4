import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server (apps/server/src/web/routes.ts) serves dist/; in development, `npm run dev -w apps/web`
// proxies the API to a server on :8080 (override with MMD_API).
const api = process.env.MMD_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // hls.js (~570 kB) is its own chunk, loaded only when a browser without native HLS plays a video.
    chunkSizeWarningLimit: 600,
    // Timing notes only matter when the build is slow because the machine is busy (e.g. under tests).
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  worker: { format: 'es' },
  server: { proxy: { '/v1': { target: api, ws: true }, '/healthz': api, '/openapi.json': api } },
});
