#!/usr/bin/env bash
# Checks that the Containerfile's runtime stage installs a Debian package for every shared library
# the built binary links (its NEEDED entries), so the image does not fail at start with
# "error while loading shared libraries". The image itself cannot be built offline; this is the
# part of it that can go wrong unseen when a dependency is added to the build.
#   containerfile_runtime_libs.sh CONTAINERFILE SLUICE_BINARY
set -euo pipefail
containerfile="${1:?Containerfile}"
binary="${2:?sluice binary}"
command -v readelf >/dev/null || { echo "SKIP: readelf (binutils) is not installed"; exit 77; }
# The package names the runtime stage installs: the words of its `apt-get install` line(s).
runtime="$(sed -n '/^FROM .* AS runtime/,$p' "$containerfile" | tr -d '\\' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' || true)"
missing=0
while read -r lib; do
  case "$lib" in libc.so.*|libm.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) continue ;; esac
  path="$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')"
  [ -n "$path" ] || { echo "FAIL: $binary needs $lib, which this machine's linker cannot find"; missing=1; continue; }
  pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1 || true)"
  [ -n "$pkg" ] || pkg="$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1 || true)"
  [ -n "$pkg" ] || { echo "FAIL: no Debian package owns $path ($lib)"; missing=1; continue; }
  if ! grep -qxF "$pkg" <<<"$runtime"; then
    echo "FAIL: $binary links $lib (package $pkg), but $containerfile's runtime stage does not install $pkg: add it to its apt-get install line"
    missing=1
  fi
done < <(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ "$missing" -eq 0 ] && echo "ok: every library $binary links comes from a package the runtime stage installs"
exit "$missing"
