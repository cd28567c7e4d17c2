#!/bin/sh
# Installs the Debian packages vastrack needs that are not installed yet.
# As root it runs apt-get; otherwise it prints the exact command to run.
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
  echo "vastrack: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends $missing || { apt-get update -qq && apt-get install -y --no-install-recommends $missing; }
else
  echo "vastrack: missing packages; run as root: $cmd" >&2
  exit 1
fi
