#!/usr/bin/env bash
# Installs the Debian packages sam2c needs to build and test. Idempotent and
# quiet when everything is already present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-dev libopenblas-openmp-dev zlib1g-dev libpng-dev libjpeg-dev libtiff-dev libwebp-dev
      libyaml-dev libcjson-dev python3-numpy)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
