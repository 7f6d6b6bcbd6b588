#!/usr/bin/env bash
# Prints the time jenkins-cloudsmith takes to render 1,000 freestyle jobs
# next to Jenkins Job Builder's `jenkins-jobs test -o DIR` on equivalent
# jobs (the same shell step, read back from our config.xml, and a
# credentials-binding wrapper), with the ratio. Needs jenkins-jobs (Debian
# jenkins-job-builder) and python3. RUNS=9 for more process runs,
# BENCHTIME=5x for more Go benchmark runs.
#
# Both tools run as processes, alternately, each into a fresh directory,
# and nothing is deleted until the end: on ext4 without a journal every
# create scans past the inodes freed in the last minutes, so a deletion
# between runs would slow whichever tool came next. The trees are written
# under TMPDIR: TMPDIR=/dev/shm/x measures the code without the disk.
set -euo pipefail
cd "$(dirname "$0")"
command -v jenkins-jobs >/dev/null || { echo "jenkins-jobs is not installed (apt-get install jenkins-job-builder)" >&2; exit 1; }
runs=${RUNS:-5}
benchtime=${BENCHTIME:-3x}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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

# A first render (untimed) gives the shell steps JJB's jobs run.
"$tmp/jenkins-cloudsmith" render -f "$tmp/spec.yaml" -o "$tmp/out0" 2>/dev/null
/usr/bin/python3 - "$tmp/out0/jobs" > "$tmp/jjb.yaml" <<'PY'
import os, sys
import xml.etree.ElementTree as ET
jobs = sys.argv[1]
for i, name in enumerate(sorted(os.listdir(jobs))):
    cmd = ET.parse(os.path.join(jobs, name, "config.xml")).find("builders/hudson.tasks.Shell/command").text
    print(f"- job:\n    name: {name}\n    project-type: freestyle\n    description: 'Job {i}'\n    node: linux")
    print("    wrappers:\n      - credentials-binding:\n          - text:\n"
          "              credential-id: oidc-token-cred\n              variable: OIDC_TOKEN")
    print("    builders:\n      - shell: |")
    for line in cmd.rstrip("\n").split("\n"):
        print("          " + line)
PY

# ms runs a command and prints its wall time in nanoseconds.
ns() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( $(date +%s%N) - s )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
jjb=() cli=()
for i in $(seq 1 "$runs"); do
  jjb+=( "$(HOME=$tmp ns jenkins-jobs --conf /dev/null test -o "$tmp/jjb$i" "$tmp/jjb.yaml")" )
  cli+=( "$(ns "$tmp/jenkins-cloudsmith" render -f "$tmp/spec.yaml" -o "$tmp/out$i")" )
done
[ "$(ls "$tmp/jjb1" | wc -l)" = 1000 ] || { echo "jenkins-jobs did not write 1,000 jobs" >&2; exit 1; }
jjb_ns=$(printf '%s\n' "${jjb[@]}" | median)
cli_ns=$(printf '%s\n' "${cli[@]}" | median)
files=$(find "$tmp/out1" -type f | wc -l)
dirs=$(find "$tmp/out1" -mindepth 1 -type d | wc -l)

# The library in process: in memory, and with the tree written.
go test -run '^$' -bench 'Render1000$|Render1000WriteTree$' -benchtime "$benchtime" . |
awk -v jjb="$jjb_ns" -v cli="$cli_ns" -v runs="$runs" -v bt="$benchtime" -v files="$files" -v dirs="$dirs" -v cpus="$(nproc)" '
/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); ns[name] = $3 }
function row(what, how, t) { printf "%-42s %-24s %9.1f ms %8.1fx\n", what, how, t / 1e6, jjb / t }
END {
  printf "1,000 freestyle jobs (jenkins-cloudsmith writes %d files in %d directories, JJB 1,000 files), %d CPUs\n\n", files, dirs, cpus
  printf "%-42s %-24s %12s %9s\n", "what", "measured", "wall time", "vs JJB"
  row("jenkins-jobs test -o DIR (JJB 3.11)", "process, median of " runs, jjb)
  row("jenkins-cloudsmith render -f SPEC -o DIR", "process, median of " runs, cli)
  row("render.Render + WriteTree (library)", "go bench, mean of " bt, ns["BenchmarkRender1000WriteTree"])
  row("render.Render in memory (library)", "go bench, mean of " bt, ns["BenchmarkRender1000"])
}'
