#!/usr/bin/env bash
# Prints the time jenkins-cloudsmith takes to render 1,000 freestyle jobs
# next to Jenkins Job Builder's `jenkins-jobs test -o DIR` on equivalent
# jobs (same shell step, credentials-binding wrapper), with the ratio.
# Needs jenkins-jobs (Debian jenkins-job-builder). BENCHTIME=5x for more runs.
set -euo pipefail
cd "$(dirname "$0")"
command -v jenkins-jobs >/dev/null || { echo "jenkins-jobs is not installed (apt-get install jenkins-job-builder)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The CLI end to end (process start, YAML load, render, 1,000+ files).
go build -o "$tmp/jenkins-cloudsmith" ../cmd/jenkins-cloudsmith
{
  printf 'version: 1\njenkins: {url: "https://jenkins.example.com/", user: u, token: "${JENKINS_API_TOKEN}"}\n'
  printf 'cloudsmith: {org: acme, service: jenkins-ci}\n'
  printf 'oidc: {credential: oidc-token-cred, audience: jenkins}\n'
  printf 'binary: {path: cloudsmith-oidc}\ndefaults: {repo: python-internal, formats: [python, npm]}\njobs:\n'
  for i in $(seq -w 0 999); do
    printf '  - {name: job-%s, type: freestyle, description: "Job %s", label: linux, steps: ["pip install -r requirements.txt", "python -m build --outdir dist/%s"]}\n' "$i" "$i" "$i"
  done
} > "$tmp/spec.yaml"
# Median of 5 runs, each into a fresh directory.
runs=()
for i in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$tmp/jenkins-cloudsmith" render -f "$tmp/spec.yaml" -o "$tmp/out$i" 2>/dev/null
  runs+=( $(( $(date +%s%N) - start )) )
done
cli_ns=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)

go test -run '^$' -bench 'Render1000$|Render1000WriteTree$|JJBTest1000$' -benchtime "${BENCHTIME:-3x}" . |
awk -v cli="$cli_ns" '
/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); ns[name] = $3 }
END {
  jjb = ns["BenchmarkJJBTest1000"]
  if (!jjb) { print "no JJB figure (is jenkins-jobs working?)"; exit 1 }
  printf "%-58s %12s %9s\n", "1,000 freestyle jobs", "wall time", "vs JJB"
  printf "%-58s %9.1f ms %9s\n", "jenkins-jobs test -o DIR (JJB 3.11)", jjb / 1e6, "1.0x"
  printf "%-58s %9.1f ms %8.1fx\n", "jenkins-cloudsmith render -f spec -o DIR (CLI, median of 5)", cli / 1e6, jjb / cli
  printf "%-58s %9.1f ms %8.1fx\n", "render.Render + WriteTree (library)", ns["BenchmarkRender1000WriteTree"] / 1e6, jjb / ns["BenchmarkRender1000WriteTree"]
  printf "%-58s %9.1f ms %8.1fx\n", "render.Render in memory (library)", ns["BenchmarkRender1000"] / 1e6, jjb / ns["BenchmarkRender1000"]
}'
