/**
 * The VS Code side: start `ftsc lsp` for `.fts` documents, check the installation first so that a missing
 * or old ftsc gets a message with its fix, and restart when the settings or the Python environment
 * that choose the server change. Which process to run is decided in ./launch (no `vscode` there).
 */
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

import {
  commandLine,
  expandPath,
  LAUNCH_SETTINGS,
  type Launch,
  type Problem,
  probe,
  problemOf,
  resolveLaunch,
  sameLaunch,
  serverInfoProblem,
} from "./launch";
import { SettingTracedChannel } from "./trace";

const PYTHON_EXTENSION = "ms-python.python";

/** The part of the Python extension's API (`@vscode/python-extension`) that is used here. */
interface PythonEnvironments {
  getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
  resolveEnvironment(
    environment: { id: string; path: string } | string,
  ): Promise<{ executable: { uri: vscode.Uri | undefined } } | undefined>;
  onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("ftsc", { log: true });
  const tracer = new SettingTracedChannel(log);
  const server = new ServerController(log, tracer);
  controller = server;
  context.subscriptions.push(
    log,
    tracer,
    server,
    vscode.commands.registerCommand("ftsc.restartServer", () => server.restart("the restart command")),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("ftsc.trace.server")) {
        tracer.update();
      }
      if (LAUNCH_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
        void server.restartIfChanged("the settings changed");
      } else if (event.affectsConfiguration("ftsc.namespace")) {
        void server.sendSettings();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => server.restartIfChanged("the workspace is trusted")),
  );
  const python = await pythonEnvironments(log);
  if (python !== undefined) {
    server.python = python;
    context.subscriptions.push(
      python.onDidChangeActiveEnvironmentPath(() => server.restartIfChanged("the Python environment changed")),
    );
  }
  await server.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
}

class ServerController implements vscode.Disposable {
  python: PythonEnvironments | undefined;
  private client: LanguageClient | undefined;
  private launch: Launch | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly tracer: vscode.LogOutputChannel,
  ) {}

  start(): Promise<void> {
    return this.enqueue(() => this.startNow());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.stopNow());
  }

  restart(reason: string): Promise<void> {
    return this.enqueue(async () => {
      this.log.info(`Restarting: ${reason}.`);
      await this.stopNow();
      await this.startNow();
    });
  }

  /** Restart only if the settings now name another process (a namespace change does not need one). */
  restartIfChanged(reason: string): Promise<void> {
    return this.enqueue(async () => {
      const next = await this.resolve();
      if (sameLaunch(this.launch, next)) {
        return;
      }
      this.log.info(`Restarting: ${reason}.`);
      await this.stopNow();
      await this.startNow(next);
    });
  }

  /** `workspace/didChangeConfiguration` with the namespace setting, paths expanded as at start. */
  async sendSettings(): Promise<void> {
    await this.client?.sendNotification("workspace/didChangeConfiguration", { settings: serverSettings() });
  }

  dispose(): void {
    void this.stop();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work).catch((error: unknown) => this.log.error(`ftsc: ${String(error)}`));
    this.queue = next;
    return next;
  }

  private async resolve(): Promise<Launch> {
    const config = vscode.workspace.getConfiguration("ftsc");
    const settings = {
      serverCommand: config.get<string[]>("server.command", []),
      interpreter: config.get<string>("interpreter", ""),
    };
    return resolveLaunch(settings, await this.activeInterpreter(), workspaceFolder());
  }

  /** The Python extension's interpreter; none in an untrusted workspace, where it may be the workspace's own. */
  private async activeInterpreter(): Promise<string | undefined> {
    if (this.python === undefined || !vscode.workspace.isTrusted) {
      return undefined;
    }
    try {
      const active = this.python.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
      const resolved = await this.python.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath;
    } catch (error) {
      this.log.warn(`The Python extension did not say which interpreter is active: ${String(error)}`);
      return undefined;
    }
  }

  private async startNow(known?: Launch): Promise<void> {
    const launch = known ?? (await this.resolve());
    this.launch = launch;
    this.log.info(`Server: ${commandLine(launch.server)} (from ${launch.source}).`);
    const found = await probe(launch);
    if (found.kind === "ok") {
      this.log.info(`Found ftsc ${found.version}.`);
    }
    const problem = problemOf(found, launch, vscode.env.remoteName);
    if (problem !== undefined) {
      this.report(problem);
      return;
    }
    const client = new LanguageClient("ftsc", "ftsc language server", serverOptions(launch), this.clientOptions());
    try {
      await client.start();
    } catch (error) {
      this.report({
        message: `The ftsc language server did not start: ${String(error)}`,
        fix: "See the ftsc output for its error; `pip install 'ftsc[lsp]'` installs what the server needs.",
      });
      await client.dispose().catch(() => undefined);
      return;
    }
    const tooOld = serverInfoProblem(client.initializeResult?.serverInfo, launch);
    if (tooOld !== undefined) {
      this.report(tooOld);
      await client.dispose();
      return;
    }
    this.client = client;
  }

  private async stopNow(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.launch = undefined;
    if (client !== undefined) {
      await client.dispose().catch((error: unknown) => this.log.warn(`Stopping the server: ${String(error)}`));
    }
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [
        { scheme: "file", language: "fts" },
        { scheme: "untitled", language: "fts" },
      ],
      initializationOptions: serverSettings(),
      outputChannel: this.log,
      traceOutputChannel: this.tracer,
    };
  }

  private report(problem: Problem): void {
    const text = `${problem.message} ${problem.fix} Then run "ftsc: Restart ftsc server".`;
    this.log.error(text);
    void vscode.window.showErrorMessage(text, "Open Settings", "Show Log").then((choice) => {
      if (choice === "Open Settings") {
        // a remote window takes ftsc.interpreter and ftsc.server.command from the Remote settings only
        const settings = vscode.env.remoteName ? "workbench.action.openRemoteSettings" : "workbench.action.openSettings";
        void vscode.commands.executeCommand(settings, "ftsc.");
      } else if (choice === "Show Log") {
        this.log.show();
      }
    });
  }
}

function serverOptions(launch: Launch): ServerOptions {
  const cwd = workspaceFolder();
  return { ...launch.server, options: cwd === undefined ? {} : { cwd } };
}

/** What the server reads from initializationOptions and didChangeConfiguration: `{"ftsc": {...}}`. */
function serverSettings(): { ftsc: { namespace: string } } {
  const namespace = vscode.workspace.getConfiguration("ftsc").get<string>("namespace", "");
  return { ftsc: { namespace: namespace ? expandPath(namespace, workspaceFolder()) : "" } };
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

async function pythonEnvironments(log: vscode.LogOutputChannel): Promise<PythonEnvironments | undefined> {
  const extension = vscode.extensions.getExtension<{ environments?: PythonEnvironments }>(PYTHON_EXTENSION);
  if (extension === undefined) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    return api?.environments;
  } catch (error) {
    log.warn(`The Python extension could not be used: ${String(error)}`);
    return undefined;
  }
}
