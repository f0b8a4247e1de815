#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder's image (Ubuntu, as root): install backprop.
# Upload a zip holding setup.sh, run_autograder and the assignment/ folder (net.yaml).
set -euo pipefail
apt-get install -y python3 python3-pip >/dev/null
pip3 install backprop-cli
