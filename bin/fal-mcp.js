#!/usr/bin/env node
// The published entry point: a thin launcher so the bin path never changes with the build layout.
import "../dist/index.js";
