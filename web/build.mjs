// build.mjs bundles the UI (src/) with esbuild into ../internal/ui/dist,
// which the skymap binary embeds, and writes ../internal/ui/bundle.sha256,
// the hash of the sources it was built from (internal/ui's test fails when
// the sources no longer match it: rebuild with `make ui`).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const out = join(here, "..", "internal", "ui", "dist");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
await build({
  entryPoints: { app: join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outdir: join(out, "assets"),
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
writeFileSync(join(here, "..", "internal", "ui", "bundle.sha256"), sourceHash(here) + "\n");

// sourceHash is the hash internal/ui's TestBundleFresh computes the same
// way: over every file of web/ but node_modules, sorted by path, the
// lines "<path>\n<sha256 of the content>\n".
function sourceHash(root) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules") continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(relative(root, p).split(sep).join("/"));
    }
  };
  walk(root);
  files.sort();
  const h = createHash("sha256");
  for (const f of files) {
    h.update(f + "\n" + createHash("sha256").update(readFileSync(join(root, f))).digest("hex") + "\n");
  }
  return h.digest("hex");
}
