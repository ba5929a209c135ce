import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Go server serves dist/ at "/" with an SPA fallback to index.html.
// The build must not need inline scripts: the server's CSP is script-src 'self'.
export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Cloudscape is one large bundle; it is fine for an internal console.
    chunkSizeWarningLimit: 4096,
    // Never turn small assets into data: URLs inside JS; keep them as files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
