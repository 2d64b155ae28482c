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
# Every library's path first, then one dpkg -S for all of them: each dpkg -S reads the whole
# package database, and one call per library took most of a minute on a busy machine.
declare -A path_of
while read -r lib; do
  case "$lib" in libc.so.*|libm.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) continue ;; esac
  path="$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')"
  [ -n "$path" ] || { echo "FAIL: $binary needs $lib, which this machine's linker cannot find"; missing=1; continue; }
  path_of[$lib]="$path"
done < <(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
declare -A package_of
if [ "${#path_of[@]}" -gt 0 ]; then
  queries=()
  for lib in "${!path_of[@]}"; do queries+=("${path_of[$lib]}" "$(readlink -f "${path_of[$lib]}")"); done
  # Lines are "package[:arch][, package...]: /path".
  while IFS= read -r line; do
    owner="${line%%: /*}"
    package_of["/${line#*: /}"]="${owner%%[:,]*}"
  done < <(dpkg -S "${queries[@]}" 2>/dev/null || true)
fi
for lib in "${!path_of[@]}"; do
  path="${path_of[$lib]}"
  pkg="${package_of[$(readlink -f "$path")]:-${package_of[$path]:-}}"
  [ -n "$pkg" ] || { echo "FAIL: no Debian package owns $path ($lib)"; missing=1; continue; }
  if ! grep -qxF "$pkg" <<<"$runtime"; then
    echo "FAIL: $binary links $lib (package $pkg), but $containerfile's runtime stage does not install $pkg: add it to its apt-get install line"
    missing=1
  fi
done
[ "$missing" -eq 0 ] && echo "ok: every library $binary links comes from a package the runtime stage installs"
exit "$missing"
