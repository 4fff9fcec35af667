#!/usr/bin/env node
// The published entry point: a thin launcher so the bin path never changes with the build layout.
import module from "node:module";

// Node 22.1+ keeps compiled code on disk between starts (a no-op where it is missing, as on Node 20).
module.enableCompileCache?.();
await import("../dist/index.cjs");
