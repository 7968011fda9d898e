#!/usr/bin/env bash
# Runs specs/oidc-provider.yaml in live mode against a local node-oidc-provider,
# by hand: installs the fixture, starts it on 127.0.0.1, runs the cases as tests
# (new or changed snapshots are written as pending `.snap.new` files: review them
# with `cargo xtask review`, accept with `cargo xtask accept`), and stops it.
#
#   bash .ci/live-oidc.sh [extra test filter or libtest flags]
#
# The automated equivalent is `cargo test -p grantspec-runner --test it live_oidc`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixture="$root/.ci/oidc-provider"

for tool in node npm cargo; do
  command -v "$tool" >/dev/null || { echo "live-oidc: $tool is not on PATH" >&2; exit 1; }
done
[ -d "$fixture/node_modules/oidc-provider" ] || (cd "$fixture" && npm ci --no-audit --no-fund)

out="$(mktemp)"
(cd "$fixture" && exec env -u NODE_ENV node server.mjs 0 >"$out") &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -f "$out"; }
trap stop EXIT

url=""
for _ in $(seq 1 300); do
  url="$(sed -n 's/^listening //p' "$out")"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "live-oidc: node-oidc-provider exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "live-oidc: node-oidc-provider did not start within 30 s" >&2; exit 1; }
echo "live-oidc: node-oidc-provider at $url (pid $pid)"

# The fixture's throwaway loopback credentials (see .ci/oidc-provider/server.mjs).
cd "$root"
GRANTSPEC_TARGET=live \
OIDC_PROVIDER_BASE_URL="$url" \
OIDC_PROVIDER_BASIC_CLIENT_ID=grantspec-basic \
OIDC_PROVIDER_BASIC_CLIENT_SECRET=basic-secret-4f1c \
OIDC_PROVIDER_POST_CLIENT_ID=grantspec-post \
OIDC_PROVIDER_POST_CLIENT_SECRET=post-secret-9b2e \
OIDC_PROVIDER_RESERVED_CLIENT_ID='sp client' \
OIDC_PROVIDER_RESERVED_CLIENT_SECRET='p@ss:w/rd+%' \
OIDC_PROVIDER_PKJWT_CLIENT_ID=grantspec-pkjwt \
OIDC_PROVIDER_PKJWT_KEY_FILE="$root/crates/test-support/keys/ec-private.pem" \
OIDC_PROVIDER_CODE_CLIENT_ID=grantspec-code \
OIDC_PROVIDER_CODE_CLIENT_SECRET=code-secret-7d3a \
OIDC_PROVIDER_OTHER_CODE_CLIENT_ID=grantspec-code-other \
OIDC_PROVIDER_OTHER_CODE_CLIENT_SECRET=other-code-secret-2c8f \
  cargo test --test specs -- oidc-provider:: "$@"
