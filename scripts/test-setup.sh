#!/usr/bin/env bash
# The set-up of `npm test`: checks that the Debian packages the tests need are
# there and installs the missing ones (apt-get as root, `sudo -n` otherwise).
# When it can do neither, it lists the packages and fails, instead of letting
# the tests fail one by one. Nothing missing: no apt-get at all.
set -euo pipefail

GDAL_PYTHON="${GDAL_PYTHON:-/usr/bin/python3}"

# One line per Debian package: its name, then a shell test that succeeds when
# what the tests use of it is installed. Later needs add lines here.
REQUIREMENTS='
gdal-bin        command -v gdalinfo
python3-gdal    "$GDAL_PYTHON" -c "import osgeo.gdal"
libdeflate-dev  has_header libdeflate.h
libjpeg-dev     has_header jpeglib.h
libzstd-dev     has_header zstd.h
pkg-config      command -v pkg-config
build-essential command -v make && command -v cc && command -v c++
redis-server    command -v redis-server
nginx-light     test -x /usr/sbin/nginx
chromium        test -x /usr/bin/chromium
'

has_header() {
  compgen -G "/usr/include/$1" >/dev/null || compgen -G "/usr/include/*/$1" >/dev/null
}

# The packages of REQUIREMENTS whose test fails.
missing_packages() {
  local pkg check
  while read -r pkg check; do
    [ -n "$pkg" ] || continue
    eval "$check" >/dev/null 2>&1 || printf '%s\n' "$pkg"
  done <<<"$REQUIREMENTS"
}

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  as_root=(none)
fi
if [ "${as_root[*]}" = none ] || ! command -v apt-get >/dev/null; then
  {
    echo "test-setup: the tests need these Debian packages, which are missing:"
    echo "  ${missing[*]}"
    echo "This script installs them with apt-get when run as root or with password-less sudo;"
    echo "here it can do neither. Install them, then run npm test again:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  } >&2
  exit 1
fi

echo "test-setup: installing ${missing[*]}" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_packages)
if [ "${#still[@]}" -ne 0 ]; then
  echo "test-setup: still missing after apt-get install: ${still[*]}" >&2
  [[ " ${still[*]} " == *" python3-gdal "* ]] &&
    echo "test-setup: $GDAL_PYTHON cannot import osgeo.gdal; set GDAL_PYTHON to the python3 that python3-gdal belongs to (Debian's /usr/bin/python3)" >&2
  exit 1
fi

# The optional native packages (our addon in native/, zstd-napi) compile at
# npm ci: build them again now that their compiler and libraries are here.
# One that failed to build then is absent, and `npm install` puts it back.
case " ${missing[*]} " in
  *-dev\ *|*" pkg-config "*|*" build-essential "*)
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    echo "test-setup: building the optional native packages against the new libraries" >&2
    if [ -e node_modules/coco-stitcher-native ] && [ -e node_modules/zstd-napi ]; then
      npm rebuild coco-stitcher-native
    else
      npm install --no-save --no-audit --no-fund
    fi || echo "test-setup: the native packages did not build; the tests run without them" >&2
    ;;
esac
