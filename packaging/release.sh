#!/usr/bin/env bash
# packaging/release.sh: the release artefacts, from one command.
#
#   packaging/release.sh [VERSION]
#
# writes to dist/ (or $DIST):
#   svgateway_VERSION_linux_amd64, svgateway_VERSION_linux_arm64   static binaries (CGO_ENABLED=0)
#   svgateway_VERSION_amd64.deb, svgateway_VERSION_arm64.deb       Debian packages (nfpm)
#   SHA256SUMS                                                     sha256sum of all of them
#
# VERSION defaults to `git describe` (a leading "v" dropped; "0.0.0~g<hash>" without a tag). The
# version and the build date (SOURCE_DATE_EPOCH, else the commit time: reproducible) are stamped
# into the binary: `svgateway --version`, svgateway_build_info, the SNMP sysDescr and the OPC UA
# BuildInfo show them. ARCHES="amd64" builds one architecture. nfpm comes from the Go module proxy
# (go run …@version: nothing is added to go.mod).
set -euo pipefail
cd "$(dirname "$0")/.."
NFPM_VERSION=v2.48.0
ARCHES=${ARCHES:-amd64 arm64}
DIST=${DIST:-dist}

VERSION=${1:-${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo unknown)}}
VERSION=${VERSION#v}
case $VERSION in [0-9]*) ;; *) VERSION="0.0.0~g${VERSION}" ;; esac
VERSION=${VERSION//-/\~} # a Debian version: "1.2.0-rc1" sorts before "1.2.0" as "1.2.0~rc1"
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
BUILD_DATE=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)

mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The changelog Debian policy wants in /usr/share/doc (a native package: changelog.gz).
cat >"$work/changelog" <<CHANGELOG
svgateway ($VERSION) unstable; urgency=medium

  * Release $VERSION, built $BUILD_DATE.

 -- svgateway maintainers <svgateway@example.org>  $(date -u -R -d "@$EPOCH")
CHANGELOG
mkdir -p packaging/build
gzip -9n <"$work/changelog" >packaging/build/changelog.gz
trap 'rm -rf "$work" packaging/build' EXIT

for arch in $ARCHES; do
  bin=$DIST/svgateway_${VERSION}_linux_${arch}
  echo "release.sh: building $bin" >&2
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X main.version=$VERSION -X main.buildDate=$BUILD_DATE" -o "$bin" ./cmd/svgateway
  echo "release.sh: packaging svgateway_${VERSION}_${arch}.deb" >&2
  cp "$bin" packaging/build/svgateway
  ARCH=$arch VERSION=$VERSION \
    go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" package --config packaging/nfpm.yaml \
    --packager deb --target "$DIST/svgateway_${VERSION}_${arch}.deb" >&2
done
(cd "$DIST" && rm -f SHA256SUMS && sha256sum svgateway_* >SHA256SUMS)
ls -l "$DIST" >&2
echo "$VERSION"
