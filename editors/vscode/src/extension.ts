// The csdsl extension: starts `csdsl lsp` (the language server of the csdsl package) over stdio
// for `.csp` files, and formats them on save unless `csdsl.formatOnSave` is off.
//
// Everything the editor shows (errors, hover, definitions, completion, code actions, code lenses,
// formatting) comes from the server; this client only finds and starts it, and says clearly when
// it cannot.

import * as fs from "fs";
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from "vscode-languageclient/node";
import { resolveServerCommand, SETTING, ServerCommand } from "./serverCommand";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("csdsl");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("csdsl.restartServer", () => restart()),
    vscode.commands.registerCommand("csdsl.showServerOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("csdsl.server")) {
        void restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart()),
    vscode.workspace.onWillSaveTextDocument((event) => {
      if (event.reason === vscode.TextDocumentSaveReason.Manual || event.reason === vscode.TextDocumentSaveReason.AfterDelay) {
        const edits = formatOnSave(event.document);
        if (edits) {
          event.waitUntil(edits);
        }
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration("csdsl");
  if (!config.get<boolean>("server.enabled", true)) {
    output.appendLine("the language server is off (`csdsl.server.enabled`)");
    return;
  }
  if (!vscode.workspace.isTrusted) {
    // the server would run the workspace's own csdsl (.venv) or the command its settings name
    output.appendLine("the language server starts once you trust this workspace");
    return;
  }
  const found = resolveServerCommand({
    configured: config.get<string[]>("server.command", []),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath),
    pythonPath: vscode.workspace.getConfiguration("python").get<string>("defaultInterpreterPath"),
    envPath: process.env.PATH,
    platform: process.platform,
    isExecutable,
  });
  if ("error" in found) {
    output.appendLine(found.error);
    void cannotStart(found.error);
    return;
  }
  output.appendLine(`starting ${describe(found)} (from ${found.source})`);

  const serverOptions: ServerOptions = {
    command: found.command,
    args: found.args,
    transport: TransportKind.stdio,
    options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "csdsl" },
      { scheme: "untitled", language: "csdsl" },
    ],
    outputChannel: output,
    // a server that cannot start is reported once, by cannotStart, not by a pop-up per attempt
    initializationFailedHandler: () => false,
  };
  try {
    client = new LanguageClient("csdsl", "csdsl language server", serverOptions, clientOptions);
    await client.start();
  } catch (error) {
    client = undefined;
    const reason = error instanceof Error ? error.message : String(error);
    const message = `\`${describe(found)}\` (from ${found.source}) did not start: ${reason} (run it in a terminal to see why)`;
    output.appendLine(message);
    void cannotStart(message);
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running && running.state !== State.Stopped) {
    await running.stop();
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

/** An error message that names the setting, with buttons to fix it. */
async function cannotStart(message: string): Promise<void> {
  const settings = "Open the setting";
  const log = "Show the output";
  const choice = await vscode.window.showErrorMessage(
    `csdsl: the language server cannot be started: ${message}. Set \`${SETTING}\` to the command that runs \`csdsl lsp\` (for example [".venv/bin/csdsl", "lsp"]).`,
    settings,
    log,
  );
  if (choice === settings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", SETTING);
  } else if (choice === log) {
    output.show(true);
  }
}

/**
 * The server's formatting edits for a document being saved, when `csdsl.formatOnSave` is on and
 * VS Code's own `editor.formatOnSave` is not (then VS Code already asks the server).
 */
function formatOnSave(document: vscode.TextDocument): Thenable<vscode.TextEdit[]> | undefined {
  if (document.languageId !== "csdsl" || client === undefined || !client.isRunning()) {
    return undefined;
  }
  if (!vscode.workspace.getConfiguration("csdsl", document).get<boolean>("formatOnSave", true)) {
    return undefined;
  }
  if (vscode.workspace.getConfiguration("editor", document).get<boolean>("formatOnSave", false)) {
    return undefined;
  }
  const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
  const options = {
    tabSize: typeof editor?.options.tabSize === "number" ? editor.options.tabSize : 2,
    insertSpaces: editor?.options.insertSpaces !== false,
  };
  return vscode.commands
    .executeCommand<vscode.TextEdit[] | undefined>("vscode.executeFormatDocumentProvider", document.uri, options)
    .then((edits) => edits ?? []);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, process.platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function describe(command: ServerCommand): string {
  return [command.command, ...command.args].join(" ");
}
