import { defineConfig } from "vite";

// A static single page: `npm run build` writes dist/ (index.html and hashed assets), served
// from any origin listed in the API's CORS_ORIGINS. Relative asset paths, so it also works
// from a sub-path.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 5173, strictPort: true },
});
