import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// haven-server serves dist/ (server.static_dir) and the WebSocket at /ws on the same origin.
// `npm run dev` proxies /ws and /api to a server on 127.0.0.1:8080 (scripts/run.sh).
export default defineConfig({
  base: "./",
  resolve: {
    // 64-bit protobuf fields are decoded as plain numbers (see src/proto.ts): no long.js.
    alias: { long: fileURLToPath(new URL("./src/no-long.js", import.meta.url)) },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
  },
  server: {
    proxy: {
      "/ws": { target: "ws://127.0.0.1:8080", ws: true },
      "/api": "http://127.0.0.1:8080",
    },
  },
});
