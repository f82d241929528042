import { defineConfig, type Plugin } from "vitest/config";
import react from "@vitejs/plugin-react";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

// precompress writes .gz (level 9) and .br (quality 11) siblings of the
// built text assets, once at build time: the Go binary embeds them and
// serves the variant a client accepts without compressing per request.
// A variant is kept only when it is smaller (tiny files are sent as is);
// even a small chunk gains, such as the bundler's runtime that the two
// pages (storefront, GraphiQL) share, under 1 KB.
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "commerce-precompress",
    apply: "build",
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((n) => {
          const p = join(dir, n);
          return statSync(p).isDirectory() ? walk(p) : [p];
        });
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json|txt|map)$/.test(file)) continue;
        const raw = readFileSync(file);
        const gz = gzipSync(raw, { level: 9 });
        const br = brotliCompressSync(raw, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
        });
        if (gz.length < raw.length) writeFileSync(file + ".gz", gz);
        if (br.length < raw.length) writeFileSync(file + ".br", br);
      }
    },
  };
}

// The build goes to dist/ (Vite's default), hashed files under dist/assets/:
// the Go binary embeds web/dist and serves /assets/* as immutable. The
// storefront's CSP forbids inline scripts and styles, so nothing may be
// inlined: assetsInlineLimit 0 keeps small files as files too.
//
// Two pages: index.html is the storefront; graphiql.html is the GraphiQL
// IDE the server sends a browser on GET /graphql (docs/graphql.md). Each
// entry gets its own chunks, so the storefront loads no GraphiQL code.
// Monaco's web workers are ES modules (worker.format) under /assets/ too.
export default defineConfig({
  plugins: [react(), precompress()],
  build: {
    assetsInlineLimit: 0,
    sourcemap: false,
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        graphiql: fileURLToPath(new URL("graphiql.html", import.meta.url)),
      },
      // GraphiQL's modules are compiled by the React Compiler and open with
      // a "use no memo" directive, which bundling drops harmlessly: that
      // warning, for node_modules only, is noise.
      onLog(level, log, handler) {
        if (log.code === "MODULE_LEVEL_DIRECTIVE" && log.id?.includes("/node_modules/")) return;
        handler(level, log);
      },
    },
  },
  worker: {
    format: "es",
  },
  server: {
    proxy: {
      "/api": { target: "http://localhost:8080", ws: true },
      // GraphiQL in development (/graphiql.html): queries and subscriptions.
      "/graphql": { target: "http://localhost:8080", ws: true },
      "/openapi.json": "http://localhost:8080",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
