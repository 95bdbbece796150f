// The launch logic, with real child processes: fake `python` / `ftsc` scripts that answer `--version`
// the way an installed, old or missing ftsc does. FTSC_TEST_PYTHON (set by `make editors`) adds a check
// against the real installation.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, test } from "node:test";

import {
  compareVersions,
  expandPath,
  isTooOld,
  type Launch,
  MIN_FTSC_VERSION,
  parseVersion,
  probe,
  problemOf,
  resolveLaunch,
  sameLaunch,
  serverInfoProblem,
} from "../../src/launch";

const posixOnly = { skip: process.platform === "win32" ? "the fake executables are shell scripts" : false };
const noSettings = { serverCommand: [], interpreter: "" };

/** A directory holding one executable shell script `name` with the given body. */
function fakeExecutable(name: string, body: string): string {
  const directory = mkdtempSync(join(tmpdir(), "ftsc-launch-"));
  const path = join(directory, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("resolveLaunch", () => {
  test("the server command setting wins over everything", () => {
    const launch = resolveLaunch(
      { serverCommand: ["uv", "run", "ftsc", "lsp"], interpreter: "/usr/bin/python3" },
      "/env/bin/python",
    );
    assert.deepEqual(launch.server, { command: "uv", args: ["run", "ftsc", "lsp"] });
    assert.equal(launch.source, "ftsc.server.command");
    assert.equal(launch.version, undefined); // checked from what initialize reports instead
  });

  test("the interpreter setting runs `-m ftsc lsp`, before the Python extension's interpreter", () => {
    const launch = resolveLaunch({ serverCommand: [], interpreter: "${workspaceFolder}/.venv/bin/python" }, "/env/python", "/ws");
    assert.deepEqual(launch.server, { command: "/ws/.venv/bin/python", args: ["-m", "ftsc", "lsp"] });
    assert.deepEqual(launch.version, { command: "/ws/.venv/bin/python", args: ["-m", "ftsc", "--version"] });
    assert.equal(launch.python, "/ws/.venv/bin/python");
    assert.equal(launch.source, "ftsc.interpreter");
  });

  test("then the Python extension's active interpreter", () => {
    const launch = resolveLaunch(noSettings, "/env/bin/python");
    assert.equal(launch.server.command, "/env/bin/python");
    assert.equal(launch.source, "Python extension");
  });

  test("then `ftsc` on PATH", () => {
    const launch = resolveLaunch({ serverCommand: ["  "], interpreter: " " }, undefined);
    assert.deepEqual(launch.server, { command: "ftsc", args: ["lsp"] });
    assert.deepEqual(launch.version, { command: "ftsc", args: ["--version"] });
    assert.equal(launch.python, undefined);
    assert.equal(launch.source, "PATH");
  });

  test("a change of interpreter is a different launch; the same settings are not", () => {
    const first = resolveLaunch({ serverCommand: [], interpreter: "/a/python" }, undefined);
    assert.ok(sameLaunch(first, resolveLaunch({ serverCommand: [], interpreter: "/a/python" }, "/b/python")));
    assert.ok(!sameLaunch(first, resolveLaunch({ serverCommand: [], interpreter: "/b/python" }, undefined)));
    assert.ok(!sameLaunch(undefined, first));
  });
});

test("expandPath knows ~, ${userHome} and ${workspaceFolder}", () => {
  assert.equal(expandPath("~/venv/bin/python", "/ws", "/home/me"), "/home/me/venv/bin/python");
  assert.equal(expandPath("${userHome}/x", undefined, "/home/me"), "/home/me/x");
  assert.equal(expandPath(" ${workspaceFolder}/ns.json ", "/ws", "/home/me"), "/ws/ns.json");
  assert.equal(expandPath("a~b", "/ws", "/home/me"), "a~b");
  assert.equal(expandPath("${workspaceFolder}/x", undefined, "/h"), "${workspaceFolder}/x"); // no folder: left
});

describe("versions", () => {
  test("parse and compare the release numbers", () => {
    assert.deepEqual(parseVersion("ftsc 0.10.2"), [0, 10, 2]);
    assert.deepEqual(parseVersion("1.2.0.dev3+g1234"), [1, 2, 0]);
    assert.equal(parseVersion("ftsc unknown"), undefined);
    assert.equal(compareVersions([0, 10, 0], [0, 9, 9]), 1);
    assert.equal(compareVersions([1, 0], [1, 0, 0]), 0);
    assert.equal(compareVersions([0, 0, 9], [0, 1]), -1);
  });

  test("too old is below the minimum only", () => {
    assert.ok(isTooOld("0.0.9", "0.1.0"));
    assert.ok(!isTooOld("0.1.0", "0.1.0"));
    assert.ok(!isTooOld("1.0", "0.1.0"));
    assert.ok(!isTooOld("not a version", "0.1.0")); // cannot tell: let it start
  });

  test("the server's own report in initialize is checked too", () => {
    const launch = resolveLaunch({ serverCommand: ["my-ftsc"], interpreter: "" }, undefined);
    assert.equal(serverInfoProblem({ name: "ftsc", version: MIN_FTSC_VERSION }, launch), undefined);
    assert.equal(serverInfoProblem(undefined, launch), undefined);
    const problem = serverInfoProblem({ name: "ftsc", version: "0.0.1" }, launch);
    assert.match(problem?.message ?? "", /ftsc 0\.0\.1 is too old .* needs 0\.1\.0 or newer \(my-ftsc \(from ftsc\.server\.command\)\)/);
    assert.equal(problem?.fix, 'Run pip install -U "ftsc[lsp]".');
  });
});

describe("probe", posixOnly, () => {
  const viaInterpreter = (python: string): Launch =>
    resolveLaunch({ serverCommand: [], interpreter: python }, undefined);

  test("an interpreter with a current ftsc is fine", async () => {
    const python = fakeExecutable("python", `[ "$*" = "-m ftsc --version" ] && echo "ftsc ${MIN_FTSC_VERSION}"`);
    const found = await probe(viaInterpreter(python));
    assert.deepEqual(found, { kind: "ok", version: MIN_FTSC_VERSION });
    assert.equal(problemOf(found, viaInterpreter(python)), undefined);
  });

  test("an old ftsc is reported with the upgrade command for that interpreter", async () => {
    const python = fakeExecutable("python", 'echo "ftsc 0.0.3"');
    const launch = viaInterpreter(python);
    const found = await probe(launch);
    assert.deepEqual(found, { kind: "too-old", version: "0.0.3" });
    const problem = problemOf(found, launch);
    assert.match(problem?.message ?? "", /ftsc 0\.0\.3 is too old/);
    assert.equal(problem?.fix, `Run ${python} -m pip install -U "ftsc[lsp]".`);
  });

  test("an interpreter without ftsc says how to install it there", async () => {
    const python = fakeExecutable("python", "echo \"$0: No module named ftsc\" >&2; exit 1");
    const launch = viaInterpreter(python);
    const found = await probe(launch);
    assert.equal(found.kind, "not-installed");
    const problem = problemOf(found, launch);
    assert.match(problem?.message ?? "", /has no ftsc installed/);
    assert.match(problem?.fix ?? "", /-m pip install -U "ftsc\[lsp\]", or set ftsc\.interpreter to a Python that has ftsc, or clear it/);
  });

  test("an interpreter that does not exist is missing", async () => {
    const launch = viaInterpreter("/nonexistent/bin/python");
    const found = await probe(launch);
    assert.equal(found.kind, "missing");
    assert.match(problemOf(found, launch)?.message ?? "", /\/nonexistent\/bin\/python was not found \(.*from ftsc\.interpreter\)/);
  });

  test("ftsc on PATH is found through PATH, and its absence names pip", async () => {
    const ftsc = fakeExecutable("ftsc", '[ "$1" = "--version" ] && echo "ftsc 9.1.0"');
    const launch = resolveLaunch(noSettings, undefined);
    const directory = ftsc.slice(0, ftsc.lastIndexOf("/"));
    assert.deepEqual(await probe(launch, { env: { PATH: directory } }), { kind: "ok", version: "9.1.0" });
    const empty = mkdtempSync(join(tmpdir(), "ftsc-empty-"));
    const missing = await probe(launch, { env: { PATH: [empty, empty].join(delimiter) } });
    assert.equal(missing.kind, "missing");
    assert.match(problemOf(missing, launch)?.fix ?? "", /^Run pip install -U "ftsc\[lsp\]", or set ftsc\.interpreter/);
  });

  test("in a remote window, a fallback that fails says to use the Remote settings", async () => {
    const launch = resolveLaunch(noSettings, undefined);
    const empty = mkdtempSync(join(tmpdir(), "ftsc-empty-"));
    const missing = await probe(launch, { env: { PATH: empty } });
    const fix = problemOf(missing, launch, "ssh-remote")?.fix ?? "";
    assert.match(fix, /^Run pip install -U "ftsc\[lsp\]", or set ftsc\.interpreter/);
    assert.match(fix, /This window is remote \(ssh-remote\): set ftsc\.interpreter or ftsc\.server\.command in the Remote settings/);
    assert.doesNotMatch(problemOf(missing, launch)?.fix ?? "", /remote/i); // a local window: no such hint
    // a setting that did apply (it is what failed) needs no hint about where settings apply
    const chosen = resolveLaunch({ serverCommand: [], interpreter: "/nonexistent/bin/python" }, undefined);
    assert.doesNotMatch(problemOf(await probe(chosen), chosen, "ssh-remote")?.fix ?? "", /remote/i);
  });

  test("anything else is a failure that shows the output", async () => {
    const python = fakeExecutable("python", "echo 'Segmentation fault' >&2; exit 139");
    const found = await probe(viaInterpreter(python));
    assert.deepEqual(found, { kind: "failed", detail: "Segmentation fault" });
    const garbled = fakeExecutable("python", "echo 'hello'");
    assert.deepEqual(await probe(viaInterpreter(garbled)), { kind: "failed", detail: "unexpected output: hello" });
  });

  test("a custom server command is not probed", async () => {
    const launch = resolveLaunch({ serverCommand: ["/nonexistent/ftsc-server"], interpreter: "" }, undefined);
    assert.deepEqual(await probe(launch), { kind: "unchecked" });
  });

  const realPython = process.env.FTSC_TEST_PYTHON;
  test(
    "the real ftsc passes the check",
    { skip: realPython ? false : "set FTSC_TEST_PYTHON to a Python with ftsc (make editors does)" },
    async () => {
      const found = await probe(viaInterpreter(realPython ?? ""));
      assert.equal(found.kind, "ok", JSON.stringify(found));
    },
  );
});
