import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The build goes to dist/ (Vite's default), hashed files under dist/assets/:
// the Go binary embeds web/dist and serves /assets/* as immutable. The
// storefront's CSP forbids inline scripts and styles, so nothing may be
// inlined: assetsInlineLimit 0 keeps small files as files too.
export default defineConfig({
  plugins: [react()],
  build: {
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": "http://localhost:8080",
      "/openapi.json": "http://localhost:8080",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
