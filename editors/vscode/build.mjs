// Bundle the extension (vscode-languageclient included, `vscode` left to the host) into dist/, and
// each unit test into out/test/ for `node --test`. Type checking is tsc's job (`npm run typecheck`).
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

// From empty folders, so that nothing of an older build (a deleted test) is run or packaged.
rmSync("dist", { recursive: true, force: true });
rmSync("out", { recursive: true, force: true });

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", logLevel: "warning" };

await build({
  ...common,
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.js",
  external: ["vscode"],
  minify: true,
});

const tests = readdirSync("test/unit").filter((name) => name.endsWith(".test.ts"));
await build({ ...common, entryPoints: tests.map((name) => `test/unit/${name}`), outdir: "out/test" });
