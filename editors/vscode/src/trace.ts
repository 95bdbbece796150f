/**
 * The channel vscode-languageclient writes its protocol trace to. The client traces only while that
 * channel's log level is Trace, and reads `ftsc.trace.server` only then; an extension cannot set a log
 * level, so with the ftsc channel itself the setting alone would log nothing. This channel's level is
 * Trace while `ftsc.trace.server` is on (or the ftsc channel is set to Trace), and what it is given goes
 * to the ftsc channel, trace lines at info level so that they show at its default level.
 */
import * as vscode from "vscode";

export class SettingTracedChannel implements vscode.LogOutputChannel {
  private readonly changed = new vscode.EventEmitter<vscode.LogLevel>();
  readonly onDidChangeLogLevel = this.changed.event;
  private level: vscode.LogLevel;
  private readonly listener: vscode.Disposable;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.level = this.wanted();
    this.listener = log.onDidChangeLogLevel(() => this.update());
  }

  get logLevel(): vscode.LogLevel {
    return this.level;
  }

  get name(): string {
    return this.log.name;
  }

  /** Re-read the setting (call on each configuration change); the client follows a new level at once. */
  update(): void {
    const next = this.wanted();
    if (next !== this.level) {
      this.level = next;
      this.changed.fire(next);
    }
  }

  private wanted(): vscode.LogLevel {
    const setting = vscode.workspace.getConfiguration("ftsc").get<string>("trace.server", "off");
    const on = setting !== "off" || this.log.logLevel === vscode.LogLevel.Trace;
    return on ? vscode.LogLevel.Trace : vscode.LogLevel.Info;
  }

  trace(message: string, ...args: unknown[]): void {
    this.log.info(message, ...args);
  }

  debug(message: string, ...args: unknown[]): void {
    this.log.debug(message, ...args);
  }

  info(message: string, ...args: unknown[]): void {
    this.log.info(message, ...args);
  }

  warn(message: string, ...args: unknown[]): void {
    this.log.warn(message, ...args);
  }

  error(error: string | Error, ...args: unknown[]): void {
    this.log.error(error, ...args);
  }

  append(value: string): void {
    this.log.append(value);
  }

  appendLine(value: string): void {
    this.log.appendLine(value);
  }

  replace(value: string): void {
    this.log.replace(value);
  }

  clear(): void {
    this.log.clear();
  }

  show(columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    this.log.show(typeof columnOrPreserveFocus === "boolean" ? columnOrPreserveFocus : preserveFocus);
  }

  hide(): void {
    this.log.hide();
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
