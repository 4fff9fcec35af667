#!/usr/bin/env bash
# System packages the tests need beyond Node: Debian's chromium for the MCP Apps viewer test
# (tests/viewer/viewer.test.ts drives /usr/bin/chromium with playwright-core). Idempotent.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
/usr/bin/chromium --version
