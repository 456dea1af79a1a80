import { defineConfig } from "vitest/config";

// The app is served by `tessera serve` from web/dist: same origin as the API, no CDN, no
// inline script (the server's Content-Security-Policy forbids it).
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
