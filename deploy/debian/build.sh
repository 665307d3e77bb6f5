#!/usr/bin/env bash
# `npm run package [-- OUTDIR]`: a Debian package of this checkout, built from
# what `npm ci` made here (compiled code, addons), with production
# dependencies only. Layout:
#   /usr/lib/ipmpd           code, node_modules, native addons
#   /usr/bin/ipmpd           the command
#   /lib/systemd/system      ipmpd.service (not enabled, not started)
#   /etc/ipmpd/ipmpd.yaml    conffile, commented, no groups
#   /usr/share/ipmpd         dashboards, rules, runbook, examples
#   /usr/share/man/man1      ipmpd.1, from --help
set -euo pipefail
cd "$(dirname "$0")/../.."
here=deploy/debian
out=$(realpath -m "${1:-dist}")
version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
stage=$(mktemp -d "${TMPDIR:-/tmp}/ipmpd-deb-XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/ipmpd

npm run build --silent
mkdir -p "$lib/dist" "$lib/build/Release" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/ipmpd" \
  "$root/usr/share/ipmpd/dashboards" "$root/usr/share/ipmpd/rules" "$root/usr/share/ipmpd/examples" \
  "$root/usr/share/doc/ipmpd" "$root/usr/share/man/man1" "$root/DEBIAN"

# code and production dependencies (pruned offline, nothing rebuilt)
cp -r dist/src "$lib/dist/src"
find "$lib/dist" -name '*.map' -delete
cp package.json package-lock.json "$lib/"
for addon in $(sed -n 's/.*"target_name": "\([^"]*\)".*/\1/p' binding.gyp); do
  cp "build/Release/$addon.node" "$lib/build/Release/"
done
cp -r node_modules "$lib/node_modules"
(cd "$lib" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --silent)
rm -f "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# the addons' build trees: keep only the built modules
for b in "$lib"/node_modules/*/build; do
  find "$b" -type f ! -name '*.node' -delete
  find "$b" -depth -type d -empty -delete
done
# prebuilt addons for other platforms (netlink ships four)
for p in "$lib"/node_modules/*/prebuilds/*; do
  [ "$(basename "$p")" = "linux-$(node -p process.arch)" ] || rm -rf "$p"
done
find "$lib" -name '*.node' -exec strip --strip-unneeded {} +
# files npm packages carry that do not belong in a system package
find "$lib/node_modules" \( -name '.*' ! -name '.' -o -name '*.md' -o -name '*.markdown' -o -name 'LICENSE*' -o -name 'license' -o -name '*.ts' ! -name '*.d.ts' -o -name 'Makefile' -o -name '*.gyp' -o -name '*.gypi' -o -name '*.cc' -o -name '*.h' -o -name '*.c' -o -name '*.sh' \) -prune -exec rm -rf {} +
find "$lib" -type d -empty -delete
find "$lib" -type f -exec chmod 0644 {} +
find "$lib" -type d -exec chmod 0755 {} +
# scripts (a #! first line) stay runnable
find "$lib" -type f -exec sh -c 'for f; do [ "$(head -c2 "$f")" = "#!" ] && chmod 0755 "$f"; done; true' sh {} +

cat > "$root/usr/bin/ipmpd" <<'EOF'
#!/bin/sh
exec /usr/bin/node --max-semi-space-size=4 /usr/lib/ipmpd/dist/src/cli/main.js "$@"
EOF
chmod 0755 "$root/usr/bin/ipmpd"

sed -e 's|^ExecStart=.*|ExecStart=/usr/bin/ipmpd run --config.file /etc/ipmpd/ipmpd.yaml|' \
    -e 's|^Documentation=.*|Documentation=man:ipmpd(1) file:/usr/share/doc/ipmpd/README.md.gz|' \
  deploy/systemd/ipmpd.service > "$root/lib/systemd/system/ipmpd.service"
install -m 0644 "$here/ipmpd.yaml" "$root/etc/ipmpd/ipmpd.yaml"
install -m 0644 grafana/dashboards/*.json "$root/usr/share/ipmpd/dashboards/"
install -m 0644 alerts/ipmpd-rules.yml alerts/alertmanager.example.yml "$root/usr/share/ipmpd/rules/"
install -m 0644 alerts/RUNBOOK.md "$root/usr/share/ipmpd/RUNBOOK.md"
install -m 0644 examples/*.yaml "$root/usr/share/ipmpd/examples/"
install -m 0644 "$here/copyright" "$root/usr/share/doc/ipmpd/copyright"
gzip -9n < README.md > "$root/usr/share/doc/ipmpd/README.md.gz"
printf 'ipmpd (%s) unstable; urgency=medium\n\n  * Built from revision %s.\n\n -- ipmpd maintainers <ipmpd@users.noreply.github.com>  %s\n' \
  "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
  | gzip -9n > "$root/usr/share/doc/ipmpd/changelog.gz"
node deploy/debian/manpage.mjs dist/src/cli/main.js "$version" | gzip -9n > "$root/usr/share/man/man1/ipmpd.1.gz"
find "$root/usr/share" "$root/etc" "$root/lib" -type f -exec chmod 0644 {} +

installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: ipmpd
Version: $version
Architecture: $arch
Maintainer: ipmpd maintainers <ipmpd@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: nodejs (>= 20), libc6
Section: net
Priority: optional
Description: IP multipathing for Linux (in.mpathd) as a Prometheus exporter
 ipmpd puts two or more NICs in a group, probes targets from each NIC's test
 address, declares a NIC failed on carrier loss or lost probes within the
 failure detection time, and moves the group's data addresses to a healthy
 NIC, as Solaris in.mpathd does. Everything it knows is exported as
 Prometheus metrics; the package also ships alerting rules, Grafana
 dashboards and a runbook under /usr/share/ipmpd.
EOF
echo /etc/ipmpd/ipmpd.yaml > "$root/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/ipmpd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
