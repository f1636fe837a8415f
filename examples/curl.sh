#!/usr/bin/env bash
# The management workflow of api-key-rotator with plain curl: add, bulk add, list, deactivate,
# reactivate, dispense, delete, stats. JSON answers are read with node, which the server needs
# anyway (jq may not be installed).
#
#   URL=http://localhost:8080 ADMIN_TOKEN=... CLIENT_TOKEN=... examples/curl.sh
#
# The keys it adds are made up (with a per-run suffix, so a second run does not collide); the
# bulk-added ones stay in the pool: delete them with the ids it prints.
set -euo pipefail

URL=${URL:-http://localhost:8080}
: "${ADMIN_TOKEN:?set ADMIN_TOKEN to an admin token of the server}"
# An admin token is accepted on /next too, so the client token is optional here.
CLIENT_TOKEN=${CLIENT_TOKEN:-$ADMIN_TOKEN}

# call TOKEN CURL-ARGS...: prints the answer. On an HTTP error it shows the server's JSON on
# stderr and fails, which stops the script (set -e) at the assignment that captured it.
call() {
  local token=$1 answer
  shift
  if ! answer=$(curl -sS --fail-with-body -H "Authorization: Bearer $token" "$@"); then
    [[ -n $answer ]] && echo "the server answered: $answer" >&2
    return 1
  fi
  printf '%s\n' "$answer"
}
admin() { call "$ADMIN_TOKEN" "$@"; }
post_json() { admin -X POST -H 'content-type: application/json' -d "$2" "$URL$1"; }
# json FIELD.PATH: one value out of the JSON on stdin, e.g. `json added.0.id`.
json() {
  node -e '
    const path = process.argv[1].split(".");
    const value = path.reduce((at, part) => at?.[part], JSON.parse(require("fs").readFileSync(0, "utf8")));
    if (value === undefined) { console.error(`no ${process.argv[1]} in the answer`); process.exit(1); }
    console.log(typeof value === "object" ? JSON.stringify(value) : value);
  ' "$1"
}
step() { printf '\n== %s\n' "$*"; }

run=$(date +%s)-$$
first="sk-example-$run-first"

step "add one key"
answer=$(post_json /add "{\"key\": \"$first\"}")
echo "$answer"
id=$(json id <<<"$answer")
echo "its id: $id"

step "add two keys in one call"
answer=$(post_json /add_bulk "{\"keys\": [\"sk-example-$run-second\", \"sk-example-$run-third\"]}")
echo "added $(json added_count <<<"$answer"), skipped $(json skipped_count <<<"$answer")"
echo "their ids: $(json added.0.id <<<"$answer") $(json added.1.id <<<"$answer")"

step "list the keys (previews only)"
answer=$(admin "$URL/keys")
echo "$answer"

step "deactivate $id (it would come back by itself after the cooldown)"
answer=$(admin -X POST "$URL/deactivate/$id")
echo "status: $(json status <<<"$answer")"

step "reactivate $id"
answer=$(admin -X POST "$URL/reactivate/$id")
echo "status: $(json status <<<"$answer")"

step "dispense a key with the client token (least recently used first)"
answer=$(call "$CLIENT_TOKEN" "$URL/next?mode=auto")
# The answer holds the key itself; print only its id.
echo "got the key with id $(json id <<<"$answer")"

step "delete $id"
answer=$(admin -X DELETE "$URL/delete/$id")
echo "deleted: $(json id <<<"$answer")"

step "stats"
answer=$(admin "$URL/stats")
echo "$answer"
