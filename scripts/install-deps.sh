#!/usr/bin/env bash
# Installs every Debian package yamlgraph-c needs to build, test and run.
# Safe to run again: it only installs what is missing.
set -euo pipefail
PKGS=(build-essential cmake pkg-config git
      libzmq3-dev libczmq-dev libyaml-dev libhiredis-dev libcurl4-openssl-dev
      libmsgpack-dev check redis-server valgrind
      python3 python3-zmq python3-msgpack python3-fastapi python3-uvicorn)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
