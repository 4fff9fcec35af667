// `npm run readme`: regenerates the README's tool table from the registry.
import fs from "node:fs";
import { withToolTable } from "./tool-table.js";
import { tools } from "../src/tools/index.js";

const readme = fs.readFileSync("README.md", "utf8");
fs.writeFileSync("README.md", withToolTable(readme, tools));
process.stderr.write(`README.md: tool table updated (${tools.length} tools)\n`);
