// The Claude Desktop bundle's server entry (manifest.json `server.entry_point`, built into the
// bundle as server/index.js by scripts/bundle.ts). Desktop starts it as
//   node server/index.js <allowed folder>... with FAL_KEY, FAL_MCP_* in the environment.
// Two things the manifest cannot express are done here before the server loads:
// - A `multiple: true` folder field reaches a server only as separate arguments (Desktop does not
//   substitute a list into an environment value), so the folders become FAL_MCP_ALLOWED_DIRS.
// - An optional field the user left empty arrives as its literal `${user_config.…}` template; such a
//   value is dropped with a warning so the server's default applies (src/util/unsubstituted.ts).
import module from "node:module";
import path from "node:path";
import {
  dropUnsubstitutedPlaceholders,
  ignoredSettingWarning,
  isUnsubstituted,
  unsubstitutedPlaceholders,
} from "../src/util/unsubstituted.js";

const warn = (message: string): void => void process.stderr.write(`fal-mcp bundle: ${message}\n`);

const folders: string[] = [];
for (const argument of process.argv.slice(2)) {
  if (isUnsubstituted(argument))
    warn(
      `Ignoring the folder argument ${unsubstitutedPlaceholders(argument).join(", ")} (no folders chosen): the default allowed folders apply.`,
    );
  else if (argument) folders.push(argument);
}
if (folders.length > 0) process.env.FAL_MCP_ALLOWED_DIRS = folders.join(path.delimiter);

// Only fal-mcp's own settings: the rest of the environment is the client's business.
const settings = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("FAL_")));
const { ignored } = dropUnsubstitutedPlaceholders(settings);
for (const setting of ignored) {
  delete process.env[setting.name];
  warn(ignoredSettingWarning(setting));
}

// The server parses its own argv strictly: it must not see the folders.
process.argv.splice(2);
// The built server, next to this file in the bundle, loaded with require() as bin/fal-mcp.js does.
module.createRequire(import.meta.url)("../dist/index.cjs");
