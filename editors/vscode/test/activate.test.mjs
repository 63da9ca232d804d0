// The compiled extension activated with a stand-in for the `vscode` module (the real one exists
// only inside VS Code).
import assert from "node:assert/strict";
import Module from "node:module";
import { test } from "node:test";

const require = Module.createRequire(import.meta.url);

// any API the client library touches at load time is a do-nothing class
const anything = {
  get(target, prop) {
    if (!(prop in target)) target[prop] = new Proxy(class {}, anything);
    return target[prop];
  },
};

/** Activates the extension in a fake VS Code; returns what it logged and the errors it showed. */
async function activate({ isTrusted }) {
  const log = [];
  const errors = [];
  const vscode = new Proxy(
    {
      window: {
        createOutputChannel: () => ({ appendLine: (line) => log.push(line), show() {}, dispose() {} }),
        showErrorMessage: async (message, ...buttons) => {
          errors.push({ message, buttons });
          return undefined;
        },
        visibleTextEditors: [],
      },
      commands: { registerCommand: () => ({ dispose() {} }), executeCommand: async () => undefined },
      workspace: {
        isTrusted,
        onDidGrantWorkspaceTrust: () => ({ dispose() {} }),
        onDidChangeConfiguration: () => ({ dispose() {} }),
        onWillSaveTextDocument: () => ({ dispose() {} }),
        workspaceFolders: [{ uri: { fsPath: "/nonexistent/workspace" } }],
        getConfiguration: () => ({ get: (_key, fallback) => fallback }),
      },
    },
    anything,
  );
  const load = Module._load;
  const path = process.env.PATH;
  Module._load = function (request, ...rest) {
    return request === "vscode" ? vscode : load.call(this, request, ...rest);
  };
  process.env.PATH = "/nonexistent/bin";
  try {
    const file = require.resolve("../out/extension.js");
    delete require.cache[file];
    await require(file).activate({ subscriptions: [] });
  } finally {
    Module._load = load;
    process.env.PATH = path;
  }
  return { log, errors };
}

test("no csdsl anywhere: one error that says where it looked and names csdsl.server.command", async () => {
  const { log, errors } = await activate({ isTrusted: true });
  assert.equal(errors.length, 1);
  const [{ message, buttons }] = errors;
  assert.match(message, /language server cannot be started/);
  assert.match(message, /\/nonexistent\/workspace\/\.venv\/bin\/csdsl/);
  assert.match(message, /`csdsl\.server\.command`/);
  assert.deepEqual(buttons, ["Open the setting", "Show the output"]);
  assert.ok(log.some((line) => line.includes("cannot find csdsl")));
});

test("an untrusted workspace: nothing of the workspace's is run, no error", async () => {
  const { log, errors } = await activate({ isTrusted: false });
  assert.deepEqual(errors, []);
  assert.deepEqual(log, ["the language server starts once you trust this workspace"]);
});
