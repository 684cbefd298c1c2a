#!/usr/bin/env bash
# Installs the training corpus of models/verity-tiny.gguf (scripts/train-model.ts): the King James
# Bible (1611, public domain) from Debian's bible-kjv-text, read with bible-kjv's `bible` command.
# Run as root; the model was trained with bible-kjv-text 4.38 (Debian bookworm).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y bible-kjv bible-kjv-text
bible -l100000 gen1:1-gen1:1
