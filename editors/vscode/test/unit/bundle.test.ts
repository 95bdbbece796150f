// The esbuild bundle loads on plain node with `vscode` as its only outside import (the host provides it)
// and exports the two entry points VS Code calls. Run after `npm run build`.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import Module from "node:module";
import { join } from "node:path";
import { test } from "node:test";

const bundle = join(__dirname, "..", "..", "dist", "extension.js");

/** Stands for any value of the `vscode` module: callable, constructible, every property another one. */
function anything(): unknown {
  const target = function () {};
  return new Proxy(target, {
    get: (object, key) => (key === "prototype" ? object.prototype : key === Symbol.toPrimitive ? () => "" : anything()),
    apply: () => anything(),
    construct: () => anything() as object,
  });
}

test("dist/extension.js loads with only `vscode` outside it and exports activate/deactivate", () => {
  assert.ok(existsSync(bundle), "build first: npm run build");
  const outside: string[] = [];
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = (request: string, ...rest: unknown[]) => {
    if (request !== bundle && !Module.isBuiltin(request)) {
      outside.push(request);
    }
    return request === "vscode" ? anything() : original(request, ...rest);
  };
  try {
    const extension = require(bundle) as Record<string, unknown>;
    assert.equal(typeof extension.activate, "function");
    assert.equal(typeof extension.deactivate, "function");
  } finally {
    loader._load = original;
  }
  assert.deepEqual([...new Set(outside)], ["vscode"]);
});
