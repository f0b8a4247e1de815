#!/usr/bin/env bash
# PrairieLearn's external grader runs this in its container: the student's files are in /grade/student, the
# question's tests/ folder in /grade/tests, and the results go to /grade/results/results.json (PrairieLearn's
# documented layout). GRADE_ROOT stands in for /grade when trying it out elsewhere.
set -uo pipefail
root="${GRADE_ROOT:-/grade}"
command -v backprop >/dev/null || pip install --quiet backprop-cli
work="$(mktemp -d)"
cp "$root/tests/net.yaml" "$work/"
cp "$root/student/layers.py" "$work/" 2>/dev/null || echo "def missing(): pass  # no layers.py submitted" > "$work/layers.py"
mkdir -p "$root/results"
cd "$work"
# A file that does not load is written as gradable: false (the student keeps the attempt); a wrong gradient
# as a score below 1. Either way the results file is there, so the script ends 0.
backprop gradcheck net.yaml --allow-python --timeout 60 --format prairielearn -o "$root/results/results.json" --quiet
[ "$?" -le 2 ] || exit 1
