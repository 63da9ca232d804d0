// Where the extension finds `csdsl lsp` (src/serverCommand.ts, compiled to out/ by `npm test`).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const { resolveServerCommand } = createRequire(import.meta.url)("../out/serverCommand.js");

const lookup = (over) => ({
  configured: [],
  workspaceFolders: ["/work/policies"],
  pythonPath: undefined,
  envPath: "/usr/local/bin:/usr/bin",
  platform: "linux",
  isExecutable: () => false,
  ...over,
});

test("the setting wins, with ${workspaceFolder} expanded", () => {
  const found = resolveServerCommand(
    lookup({ configured: ["${workspaceFolder}/env/bin/csdsl", "lsp", "--log", "debug"], isExecutable: () => true }),
  );
  assert.deepEqual(found, { command: "/work/policies/env/bin/csdsl", args: ["lsp", "--log", "debug"], source: "the `csdsl.server.command` setting" });
});

test("an empty setting is the default: the workspace's .venv first", () => {
  const found = resolveServerCommand(
    lookup({ configured: [""], pythonPath: "/opt/py/bin/python", isExecutable: (f) => f === "/work/policies/.venv/bin/csdsl" || f === "/opt/py/bin/csdsl" }),
  );
  assert.equal(found.command, "/work/policies/.venv/bin/csdsl");
  assert.deepEqual(found.args, ["lsp"]);
});

test("then the environment of python.defaultInterpreterPath", () => {
  const found = resolveServerCommand(
    lookup({ pythonPath: "${workspaceFolder}/../envs/csdsl/bin/python3", isExecutable: (f) => f === "/work/envs/csdsl/bin/csdsl" || f === "/usr/bin/csdsl" }),
  );
  assert.equal(found.command, "/work/envs/csdsl/bin/csdsl");
  assert.match(found.source, /python\.defaultInterpreterPath/);
});

test("then the PATH", () => {
  const found = resolveServerCommand(lookup({ isExecutable: (f) => f === "/usr/bin/csdsl" }));
  assert.deepEqual(found, { command: "/usr/bin/csdsl", args: ["lsp"], source: "the PATH" });
});

test("Windows: Scripts\\csdsl.exe and ; between PATH entries", () => {
  const found = resolveServerCommand(
    lookup({ platform: "win32", workspaceFolders: ["C:\\work\\p"], envPath: "C:\\bin;C:\\py", isExecutable: (f) => f === "C:\\py\\csdsl.exe" }),
  );
  assert.equal(found.command, "C:\\py\\csdsl.exe");
  const venv = resolveServerCommand(
    lookup({ platform: "win32", workspaceFolders: ["C:\\work\\p"], isExecutable: (f) => f === "C:\\work\\p\\.venv\\Scripts\\csdsl.exe" }),
  );
  assert.equal(venv.command, "C:\\work\\p\\.venv\\Scripts\\csdsl.exe");
});

test("nothing found: the error says where it looked", () => {
  const found = resolveServerCommand(lookup({ pythonPath: "/opt/py/bin/python" }));
  assert.ok("error" in found);
  assert.match(found.error, /\/work\/policies\/\.venv\/bin\/csdsl/);
  assert.match(found.error, /\/opt\/py\/bin\/csdsl/);
  assert.match(found.error, /the PATH/);
});
