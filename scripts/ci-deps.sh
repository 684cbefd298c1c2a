#!/usr/bin/env bash
# Debian packages the tests need. None yet; kept so that .ci/run has one place to add them.
set -euo pipefail
if [ "${VERITY_SKIP_APT:-}" = "1" ]; then exit 0; fi
needed=()
if [ ${#needed[@]} -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "${needed[@]}"
fi
