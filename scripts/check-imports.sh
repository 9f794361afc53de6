#!/usr/bin/env bash
# Enforces the import rules of DESIGN.md: pdp imports none of pap, xacml,
# sdk, cmd; pap never imports sdk; pip, token and xacml import nothing else
# of ours. Test-only packages (storetest and friends) are exempt from
# nothing: production code must not import them either.
set -euo pipefail
mod=github.com/verdict-authz/verdict
fail=0
check() { # package-pattern forbidden-regex description
  local out
  out=$(go list -deps -f '{{.ImportPath}}' "$1" 2>/dev/null | grep -E "^$mod/" | grep -E "$2" || true)
  # a package may always import itself and its own subpackages
  if [[ -n $out ]]; then
    echo "import rule violated: $1 $3:"; echo "$out" | sed 's/^/  /'; fail=1
  fi
}
for p in $(go list ./pdp/...); do check "$p" "^$mod/(pap|xacml|sdk|cmd)(/|$)" "must not import pap, xacml, sdk or cmd"; done
for p in $(go list ./pap/... 2>/dev/null); do check "$p" "^$mod/sdk(/|$)" "must not import sdk"; done
for root in pip token xacml; do
  for p in $(go list ./$root/... 2>/dev/null); do
    out=$(go list -deps -f '{{.ImportPath}}' "$p" | grep -E "^$mod/" | grep -vE "^$mod/$root(/|$)" || true)
    if [[ -n $out ]]; then echo "import rule violated: $p must import nothing else of ours:"; echo "$out" | sed 's/^/  /'; fail=1; fi
  done
done
# production code must not import test support packages
out=$(go list -deps -f '{{.ImportPath}}' ./... | grep -E "^$mod/.*(storetest|testutil|testsuite|natstest|mtlstest|integration/conformance)" || true)
for p in $out; do
  users=$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./... | grep " $p" | awk '{print $1}' | grep -vE "(storetest|testutil|testsuite|natstest|mtlstest|integration/conformance)" || true)
  if [[ -n $users ]]; then echo "production packages import test support $p: $users"; fail=1; fi
done
exit $fail
