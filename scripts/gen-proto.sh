#!/usr/bin/env bash
# gen-proto.sh — generate, lint and compatibility-check Verdict's protobuf API.
#
#   scripts/gen-proto.sh generate   regenerate the Go code in proto/verdict/v1
#   scripts/gen-proto.sh lint       buf lint + buf format check
#   scripts/gen-proto.sh breaking   buf breaking against the main branch
#   scripts/gen-proto.sh check      fail if the committed Go code is stale
#
# Nothing needs to be installed by hand: buf and every protoc plugin run with
# `go run module/pkg@version` from the pinned versions below and in
# proto/buf.gen.yaml, fetched from the Go module proxy and cached by Go.
# The buf module (buf.yaml, buf.gen.yaml) lives in proto/, so the proto
# import paths are verdict/v1/*.proto.
#
# Environment:
#   BUF_BREAKING_REF      git ref to compare against (default: main)
#   BUF_BREAKING_AGAINST  any buf input to compare against instead, e.g. a
#                         committed image (buf build -o proto/baseline.binpb)
set -euo pipefail

# Pinned tool versions. The plugin versions live in proto/buf.gen.yaml;
# protoc-gen-go and protoc-gen-connect-go must match go.mod (checked below).
BUF_VERSION=v1.75.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
proto="$root/proto"

# Scratch directory for breaking and check, removed on exit.
tmp=""
trap 'if [[ -n "$tmp" ]]; then rm -rf "$tmp"; fi' EXIT

buf() {
	go run "github.com/bufbuild/buf/cmd/buf@${BUF_VERSION}" "$@"
}

# remove_generated DIR deletes generated Go under DIR, so that code for a
# deleted .proto file does not survive regeneration. Hand-written files
# (doc.go) are kept.
remove_generated() {
	find "$1/verdict" \( -name '*.pb.go' -o -name '*.connect.go' \) -type f -delete
}

# list_generated DIR prints the generated Go files under DIR, relative to it.
list_generated() {
	(cd "$1" && find verdict \( -name '*.pb.go' -o -name '*.connect.go' \) -type f | LC_ALL=C sort)
}

# check_plugin_versions fails when buf.gen.yaml pins a runtime-coupled plugin
# at a version other than go.mod's: generated code must match the runtime
# library it is compiled against.
check_plugin_versions() {
	local mod want got
	for mod in google.golang.org/protobuf connectrpc.com/connect; do
		want="$(cd "$root" && go list -m -f '{{.Version}}' "$mod")"
		got="$(grep -o "\"${mod}/cmd/[^\"]*@[^\"]*\"" "$proto/buf.gen.yaml" | sed 's/.*@//; s/"$//')"
		if [[ "$got" != "$want" ]]; then
			echo "gen-proto: proto/buf.gen.yaml pins ${mod} plugin at '${got}', go.mod has ${want}" >&2
			exit 1
		fi
	done
}

generate() {
	check_plugin_versions
	remove_generated "$proto"
	(cd "$proto" && buf generate)
}

lint() {
	(cd "$proto" && buf lint && buf format --diff --exit-code)
}

breaking() {
	local against
	if [[ -n "${BUF_BREAKING_AGAINST:-}" ]]; then
		against="$BUF_BREAKING_AGAINST"
	else
		local ref="${BUF_BREAKING_REF:-main}"
		# No baseline yet (empty repository, or the API not committed on
		# that ref): nothing can break, so there is nothing to check.
		if ! git -C "$root" rev-parse --verify --quiet "${ref}^{commit}" >/dev/null; then
			echo "gen-proto: no commit at '${ref}'; skipping buf breaking"
			return 0
		fi
		if ! git -C "$root" cat-file -e "${ref}:proto/buf.yaml" 2>/dev/null; then
			echo "gen-proto: '${ref}' has no proto/buf.yaml; skipping buf breaking"
			return 0
		fi
		# Extract the baseline with git archive rather than buf's .git
		# input: it works for any ref (branches, origin/main, hashes), in
		# worktrees and in shallow clones.
		tmp="$(mktemp -d)"
		git -C "$root" archive "$ref" proto | tar -x -C "$tmp"
		against="$tmp/proto"
	fi
	(cd "$proto" && buf breaking --against "$against")
}

# check regenerates into a scratch copy and compares it with the working
# tree. Unlike `git diff` after regenerating in place, it leaves the tree
# untouched, catches stale and missing files whether or not they are
# tracked, and works before the first commit.
check() {
	check_plugin_versions
	tmp="$(mktemp -d)"
	cp -R "$proto" "$tmp/proto"
	remove_generated "$tmp/proto"
	(cd "$tmp/proto" && buf generate)
	local f stale=0
	if ! diff -u <(list_generated "$proto") <(list_generated "$tmp/proto"); then
		stale=1
	fi
	while read -r f; do
		if [[ -f "$proto/$f" ]] && ! diff -u "$proto/$f" "$tmp/proto/$f"; then
			stale=1
		fi
	done < <(list_generated "$tmp/proto")
	if ((stale)); then
		echo "gen-proto: generated code in proto/ is stale; run scripts/gen-proto.sh generate" >&2
		exit 1
	fi
	echo "gen-proto: generated code is up to date"
}

case "${1:-generate}" in
generate) generate ;;
lint) lint ;;
breaking) breaking ;;
check) check ;;
*)
	echo "usage: $0 [generate|lint|breaking|check]" >&2
	exit 2
	;;
esac
