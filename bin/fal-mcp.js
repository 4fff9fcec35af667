#!/usr/bin/env node
// The published entry point: a thin launcher so the bin path never changes with the build layout.
import module from "node:module";

// Node 22.1+ keeps compiled code on disk between starts (a no-op where it is missing, as on Node 20).
module.enableCompileCache?.();
// require(), not import(): importing a CommonJS file from ESM runs Node's export lexer over the
// whole 2 MB bundle first (~300 ms on this machine), and the bundle exports nothing.
module.createRequire(import.meta.url)("../dist/index.cjs");
