// Which program starts the csdsl language server: no VS Code API here, so that it can be tested
// with plain Node (test/serverCommand.test.mjs).
//
// In order:
//   1. the `csdsl.server.command` setting, when it is not empty: [program, ...args];
//   2. `csdsl lsp` from the workspace folder's virtual environment (`.venv/bin/csdsl`,
//      on Windows `.venv\Scripts\csdsl.exe`);
//   3. `csdsl lsp` from the environment of the Python extension's `python.defaultInterpreterPath`
//      (the `csdsl` script next to that interpreter);
//   4. `csdsl lsp` found on the PATH.

import * as path from "path";

export interface ServerCommand {
  command: string;
  args: string[];
  /** where it came from, for the output channel and error messages */
  source: string;
}

export interface Lookup {
  /** the `csdsl.server.command` setting */
  configured: readonly string[];
  /** the workspace folders' paths on disk */
  workspaceFolders: readonly string[];
  /** the `python.defaultInterpreterPath` setting, if any */
  pythonPath: string | undefined;
  /** the PATH environment variable */
  envPath: string | undefined;
  platform: NodeJS.Platform;
  /** is there an executable file here? */
  isExecutable: (file: string) => boolean;
}

export const SETTING = "csdsl.server.command";

/** The command, or the sentence saying where csdsl was looked for. */
export function resolveServerCommand(lookup: Lookup): ServerCommand | { error: string } {
  const configured = lookup.configured.filter((part) => part.trim() !== "");
  if (configured.length > 0) {
    const [command, ...args] = configured.map((part) => expand(part, lookup.workspaceFolders[0]));
    return { command, args, source: `the \`${SETTING}\` setting` };
  }
  const windows = lookup.platform === "win32";
  const script = windows ? "csdsl.exe" : "csdsl";
  const p = windows ? path.win32 : path.posix;
  const looked: string[] = [];

  for (const folder of lookup.workspaceFolders) {
    const candidate = p.join(folder, ".venv", windows ? "Scripts" : "bin", script);
    looked.push(candidate);
    if (lookup.isExecutable(candidate)) {
      return { command: candidate, args: ["lsp"], source: "the workspace's .venv" };
    }
  }

  if (lookup.pythonPath && lookup.pythonPath.trim() !== "" && lookup.pythonPath !== "python") {
    const interpreter = expand(lookup.pythonPath, lookup.workspaceFolders[0]);
    const candidate = p.join(p.dirname(interpreter), script);
    looked.push(candidate);
    if (lookup.isExecutable(candidate)) {
      return { command: candidate, args: ["lsp"], source: "the environment of `python.defaultInterpreterPath`" };
    }
  }

  const dirs = (lookup.envPath ?? "").split(windows ? ";" : ":").filter((d) => d !== "");
  for (const dir of dirs) {
    const candidate = p.join(dir, script);
    if (lookup.isExecutable(candidate)) {
      return { command: candidate, args: ["lsp"], source: "the PATH" };
    }
  }
  looked.push("the PATH");
  return {
    error: `cannot find csdsl (looked in ${looked.join(", ")}); install it in the workspace's environment (\`pip install csdsl\`)`,
  };
}

/** `${workspaceFolder}` and a leading `~` in a setting, as VS Code users write them. */
function expand(value: string, workspaceFolder: string | undefined): string {
  let out = value;
  if (workspaceFolder !== undefined) {
    out = out.split("${workspaceFolder}").join(workspaceFolder);
  }
  const home = process.env.HOME ?? process.env.USERPROFILE;
  if (home && (out === "~" || out.startsWith("~/"))) {
    out = home + out.slice(1);
  }
  return out;
}
