/**
 * How the extension finds and checks `ftsc lsp` before starting it. Nothing here imports `vscode`, so
 * node's own test runner exercises it with real child processes.
 */
import { execFile } from "node:child_process";
import { homedir } from "node:os";

/** The oldest ftsc whose language server this extension was written against. */
export const MIN_FTSC_VERSION = "0.1.0";
export const PIP_PACKAGE = "ftsc[lsp]";

/** The settings that decide which process runs; a change to one of them restarts the server. */
export const LAUNCH_SETTINGS = ["ftsc.interpreter", "ftsc.server.command"] as const;

export type LaunchSource = "ftsc.server.command" | "ftsc.interpreter" | "Python extension" | "PATH";

export interface Command {
  command: string;
  args: string[];
}

export interface Launch {
  server: Command;
  /** `… --version` for the same installation; absent for a custom command (initialize reports it). */
  version?: Command;
  /** The interpreter that runs ftsc, when one is known: the fix for a missing or old ftsc names it. */
  python?: string;
  source: LaunchSource;
}

export interface LaunchSettings {
  serverCommand: readonly string[];
  interpreter: string;
}

/** `~`, `${userHome}` and `${workspaceFolder}` in a path setting, as VS Code users write them. */
export function expandPath(value: string, workspaceFolder?: string, home: string = homedir()): string {
  let expanded = value.trim().replaceAll("${userHome}", home);
  if (workspaceFolder !== undefined) {
    expanded = expanded.replaceAll("${workspaceFolder}", workspaceFolder);
  }
  if (expanded === "~" || expanded.startsWith("~/") || expanded.startsWith("~\\")) {
    expanded = home + expanded.slice(1);
  }
  return expanded;
}

/**
 * Which process to run, in order: the `ftsc.server.command` setting, the `ftsc.interpreter` setting, the
 * Python extension's active interpreter, then `ftsc` on PATH.
 */
export function resolveLaunch(
  settings: LaunchSettings,
  pythonExtensionInterpreter: string | undefined,
  workspaceFolder?: string,
): Launch {
  const custom = settings.serverCommand.map((part) => expandPath(part, workspaceFolder)).filter(Boolean);
  const [command, ...args] = custom;
  if (command !== undefined) {
    return { server: { command, args }, source: "ftsc.server.command" };
  }
  const interpreter = expandPath(settings.interpreter, workspaceFolder);
  if (interpreter) {
    return viaPython(interpreter, "ftsc.interpreter");
  }
  if (pythonExtensionInterpreter) {
    return viaPython(pythonExtensionInterpreter, "Python extension");
  }
  return {
    server: { command: "ftsc", args: ["lsp"] },
    version: { command: "ftsc", args: ["--version"] },
    source: "PATH",
  };
}

function viaPython(python: string, source: LaunchSource): Launch {
  return {
    server: { command: python, args: ["-m", "ftsc", "lsp"] },
    version: { command: python, args: ["-m", "ftsc", "--version"] },
    python,
    source,
  };
}

export function sameLaunch(a: Launch | undefined, b: Launch): boolean {
  return a !== undefined && commandLine(a.server) === commandLine(b.server);
}

/** A command as a user would type it, for messages and the log. */
export function commandLine({ command, args }: Command): string {
  return [command, ...args].map((part) => (/^[\w@%+=:,./\\-]+$/.test(part) ? part : JSON.stringify(part))).join(" ");
}

// --- versions ----------------------------------------------------------------------------------------

/** The release numbers of the first version in `text` (`ftsc 0.1.0` → [0, 1, 0]); suffixes are ignored. */
export function parseVersion(text: string): number[] | undefined {
  const match = /\d+(?:\.\d+)+/.exec(text);
  return match ? match[0].split(".").map(Number) : undefined;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) {
      return Math.sign(difference);
    }
  }
  return 0;
}

export function isTooOld(version: string, minimum: string = MIN_FTSC_VERSION): boolean {
  const found = parseVersion(version);
  const needed = parseVersion(minimum);
  return found !== undefined && needed !== undefined && compareVersions(found, needed) < 0;
}

// --- the check before starting -----------------------------------------------------------------------

export type Probe =
  | { kind: "ok"; version: string }
  | { kind: "too-old"; version: string }
  | { kind: "missing"; detail: string }
  | { kind: "not-installed"; detail: string }
  | { kind: "failed"; detail: string }
  | { kind: "unchecked" };

export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Run `… --version` of the installation `launch` would start, and say what it found. */
export function probe(launch: Launch, options: ProbeOptions = {}): Promise<Probe> {
  const version = launch.version;
  if (version === undefined) {
    return Promise.resolve({ kind: "unchecked" });
  }
  return new Promise((resolve) => {
    execFile(
      version.command,
      version.args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, windowsHide: true },
      (error, stdout, stderr) => resolve(classify(error, String(stdout), String(stderr))),
    );
  });
}

function classify(error: (Error & { code?: unknown }) | null, stdout: string, stderr: string): Probe {
  if (error !== null && (error.code === "ENOENT" || error.code === "EACCES")) {
    return { kind: "missing", detail: error.message };
  }
  const output = `${stdout}\n${stderr}`.trim();
  if (error !== null) {
    const kind = /No module named '?ftsc\b/.test(output) ? "not-installed" : "failed";
    return { kind, detail: output || error.message };
  }
  const version = /^ftsc (\S+)/m.exec(stdout)?.[1];
  if (version === undefined || parseVersion(version) === undefined) {
    return { kind: "failed", detail: `unexpected output: ${output || "(none)"}` };
  }
  return isTooOld(version) ? { kind: "too-old", version } : { kind: "ok", version };
}

export interface Problem {
  message: string;
  fix: string;
}

/**
 * What went wrong and how to fix it, for a probe that did not find a usable ftsc; undefined if it did.
 * `remote` is the window's remote name (`vscode.env.remoteName`: ssh-remote, wsl, dev-container, a
 * code-server host), where the machine settings come from the Remote settings only.
 */
export function problemOf(found: Probe, launch: Launch, remote?: string): Problem | undefined {
  const problem = localProblemOf(found, launch);
  const fellBack = launch.source === "PATH" || launch.source === "Python extension";
  if (problem === undefined || remote === undefined || !fellBack) {
    return problem;
  }
  return { ...problem, fix: `${problem.fix} ${remoteSettingsHint(remote)}` };
}

/** In a remote window, `ftsc.interpreter` and `ftsc.server.command` (machine-overridable) set in the User
 * settings are ignored: the extension then falls back to the Python extension or PATH. */
export function remoteSettingsHint(remote: string): string {
  return (
    `This window is remote (${remote}): set ftsc.interpreter or ftsc.server.command in the Remote settings ` +
    `(Preferences: Open Remote Settings), since User settings do not apply to them there.`
  );
}

function localProblemOf(found: Probe, launch: Launch): Problem | undefined {
  const what = `${commandLine(launch.server)} (from ${launch.source})`;
  const install = commandLine(
    launch.python
      ? { command: launch.python, args: ["-m", "pip", "install", "-U", PIP_PACKAGE] }
      : { command: "pip", args: ["install", "-U", PIP_PACKAGE] },
  );
  const choose =
    launch.source === "ftsc.interpreter"
      ? "set ftsc.interpreter to a Python that has ftsc, or clear it"
      : "set ftsc.interpreter to the Python that has ftsc";
  switch (found.kind) {
    case "ok":
    case "unchecked":
      return undefined;
    case "missing":
      return {
        message: `Cannot start the ftsc language server: ${launch.server.command} was not found (${what}).`,
        fix: launch.python ? `Install Python there, or ${choose}.` : `Run ${install}, or ${choose}.`,
      };
    case "not-installed":
      return {
        message: `Cannot start the ftsc language server: ${launch.python} has no ftsc installed (${what}).`,
        fix: `Run ${install}, or ${choose}.`,
      };
    case "too-old":
      return {
        message: `ftsc ${found.version} is too old for this extension, which needs ${MIN_FTSC_VERSION} or newer (${what}).`,
        fix: `Run ${install}.`,
      };
    case "failed":
      return {
        message: `Cannot start the ftsc language server: ${commandLine(launch.version ?? launch.server)} failed: ${found.detail}`,
        fix: `Run ${install}, or ${choose}.`,
      };
  }
}

/** The same check on what the server itself reported in `initialize` (covers custom commands). */
export function serverInfoProblem(
  serverInfo: { name: string; version?: string } | undefined,
  launch: Launch,
): Problem | undefined {
  const version = serverInfo?.version;
  return version !== undefined && isTooOld(version) ? problemOf({ kind: "too-old", version }, launch) : undefined;
}
