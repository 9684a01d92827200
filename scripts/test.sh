#!/usr/bin/env bash
# The one command that runs every test: installs what the tests need on a
# fresh machine (git, openssh-server, prometheus, prometheus-pushgateway, chromium,
# poppler-utils, LibreOffice, the versitygw S3 server), then go vet and
# go test -race over the whole module. Integration tests never skip here:
# KSBFOLIO_TEST_REQUIRE turns a missing server into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
# Debian's prometheus package gives prometheus and promtool (collectors/prometheus/promtest).
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need_apt+=(prometheus)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) # the pack's rendering and PDF tests (evidence/pack)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils) # pdftotext: the pack PDF's text
# Debian's libreoffice-calc-nogui gives soffice: the workbook converts to CSV (evidence/workbook).
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-calc-nogui)
# Debian's prometheus-pushgateway: run --pushgateway's test (pipeline/metrics).
command -v prometheus-pushgateway >/dev/null 2>&1 || need_apt+=(prometheus-pushgateway)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || need_apt+=(openssh-server) # the git collector's SSH test
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

VERSITYGW_VERSION=v1.8.0
gobin="$(go env GOBIN)"; [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/versitygw" ] && ! command -v versitygw >/dev/null 2>&1; then
  echo "installing versitygw $VERSITYGW_VERSION (S3 server for the tests)"
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
export PATH="$gobin:$PATH"
export KSBFOLIO_TEST_REQUIRE="${KSBFOLIO_TEST_REQUIRE:-s3,git,sshd,prometheus,pushgateway,chromium,libreoffice,corpus}"
# The pack's screenshots and PDFs (internal/chromiumtest) are kept here, one folder per test.
export KSBFOLIO_TEST_ARTIFACTS="${KSBFOLIO_TEST_ARTIFACTS:-$PWD/test-artifacts}"

go mod download
echo "go vet ./..."
go vet ./...
echo "go test -race ./..."
go test -race -timeout 40m "$@" ./...
