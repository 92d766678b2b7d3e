import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The API serves dist/ itself (shared/tower/api/page.py), so the page and the API share one origin:
// no CORS, and the API's Content-Security-Policy ('self' only) applies to every file here.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // ECharts is the bulk of the code; it gets its own chunk so the first screen (sign-in, the
    // agency overview, the dashboard's cards) does not wait for it.
    chunkSizeWarningLimit: 700,
  },
  server: {
    // `npm run dev` against a running `tower demo` (or tests/e2e/browser/demo_site.py).
    proxy: { "/api": process.env.TOWER_API ?? "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    css: false,
  },
});
