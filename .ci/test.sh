#!/usr/bin/env bash
# The whole test suite, as README's second command runs it. It installs what
# the tests need first, so it works on a fresh machine (CI runs it through
# .ci/run on a clean clone with nothing pre-installed).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

# Debian packages the tests drive as real, independent clients.
need=()
command -v groovy >/dev/null 2>&1 || need+=(groovy)
command -v jenkins-jobs >/dev/null 2>&1 || need+=(jenkins-job-builder)
/usr/bin/python3 -c 'import jenkins' >/dev/null 2>&1 || need+=(python3-jenkins)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v bash >/dev/null 2>&1 || need+=(bash)
# Jenkins runs shell steps with /bin/sh, dash on Debian agents; the
# emulator runs the same, so a bashism fails in tests as it would there.
command -v dash >/dev/null 2>&1 || need+=(dash)
# Package managers the Cloudsmith emulator's hosts are checked with, at
# Debian's versions (npm may come with a non-Debian nodejs already).
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v twine >/dev/null 2>&1 || need+=(twine)
command -v yarnpkg >/dev/null 2>&1 || need+=(yarnpkg)
# Debian's Go 1.19 lives beside the toolchain on PATH (no /usr/bin/go).
[ -x /usr/lib/go-1.19/bin/go ] || need+=(golang-1.19-go)
# Maven 3.8 with Debian's dependency and deploy plugins (Maven Central is
# not reachable: the tests mirror central to /usr/share/maven-repo), cargo
# 0.66 (the git index; its rustc comes along), skopeo 1.9 for the Docker
# registry, git for Cargo's git index.
command -v mvn >/dev/null 2>&1 || need+=(maven)
[ -d /usr/share/maven-repo/org/apache/maven/plugins/maven-dependency-plugin ] || need+=(libmaven-dependency-plugin-java)
[ -d /usr/share/maven-repo/org/apache/maven/plugins/maven-deploy-plugin ] || need+=(libmaven-deploy-plugin-java)
[ -x /usr/bin/cargo ] || need+=(cargo)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v git >/dev/null 2>&1 || need+=(git)
if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    log "missing ${need[*]} and not root: install them, then re-run"; exit 1
  fi
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Groovy on Debian needs JAVA_HOME (default-java is not always present).
if [ -z "${JAVA_HOME:-}" ]; then
  for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/default-java; do
    if [ -x "$j/bin/java" ]; then export JAVA_HOME="$j"; break; fi
  done
fi

log "downloading Go modules"
go mod download

log "go vet"
go vet ./...

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then printf 'gofmt would change:\n%s\n' "$unformatted" >&2; exit 1; fi

log "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

log "go test -race"
# The race detector costs about a minute on two cores and guards the
# parallel apply, the emulators and the streaming masker.
go test -race -count=1 -timeout 15m ./... "$@"
