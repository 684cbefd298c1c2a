#!/usr/bin/env bash
# Debian packages the tests need: .ci/run calls this on a fresh machine.
set -euo pipefail
if [ "${VERITY_SKIP_APT:-}" = "1" ]; then exit 0; fi
# iptables: the multi-host test cuts a host off inside its network namespace; openssl: TLS tests;
# g++: better-sqlite3 and the native int8 kernel (scripts/build-native.mjs) compile at npm install;
# python3-sklearn: ships the 8x8 digits (sklearn/datasets/data/digits.csv.gz) for the vision model;
# chromium: the dashboard's browser test (test/dashboard.e2e.test.ts) drives it with playwright-core
needed=(iptables openssl g++ make python3-sklearn chromium)
if [ ${#needed[@]} -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "${needed[@]}"
fi
