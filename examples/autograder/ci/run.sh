#!/usr/bin/env bash
# The same check anywhere (a Makefile, a pre-submit hook): the table on the terminal, the JUnit report beside it,
# and the exit code for the job's status (0 all right, 1 a wrong gradient, 2 a file that does not load).
set -uo pipefail
backprop gradcheck "${1:-net.yaml}" --allow-python --format junit -o "${2:-report.xml}"
