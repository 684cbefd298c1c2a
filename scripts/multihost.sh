#!/usr/bin/env bash
# The larger multi-host run (CI runs a bounded one in test/multihost.e2e.test.ts): longer phases,
# more users. Needs root (a network namespace and iptables inside it); nothing leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
VERITY_OUTER_NETNS="$(readlink /proc/self/ns/net)" exec unshare --net -- node bin/run-ts.js test/multihost/scenario.ts \
  --epoch-seconds "${EPOCH_SECONDS:-10}" --cut-seconds "${CUT_SECONDS:-300}" \
  --heal-seconds "${HEAL_SECONDS:-300}" --load "${LOAD:-6}" "$@"
