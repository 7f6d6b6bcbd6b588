// Command exchange benchmarks the cloudsmith-oidc binary against the
// Cloudsmith emulator and prints a table: the median wall time of one
// "cloudsmith-oidc exchange" process next to the seed guide's curl | jq
// pipeline (fixed to build valid JSON with jq -n --arg) against the same
// emulator, the cached second call, and the binary's size and peak RSS.
//
//	go run ./bench/exchange [-n 30] [-latency 0s]
//
// It is a benchmark, not a test: numbers depend on the machine. Unix only
// (peak RSS comes from wait4's rusage).

//go:build unix

package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/oidctest"
)

// seedPipeline is the seed guide's exchange, made correct: jq builds the
// JSON body (the guide's hand-written JSON lacks quotes), the body goes
// through stdin rather than argv, and curl fails on HTTP errors.
const seedPipeline = `set -euo pipefail
jq -n --arg t "$OIDC_TOKEN" --arg s "$CLOUDSMITH_SERVICE_SLUG" '{oidc_token: $t, service_slug: $s}' |
  curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- "$CLOUDSMITH_API_URL/openid/$CLOUDSMITH_ORG/" |
  jq -r .token > "$OUT"`

type sample struct {
	wall   time.Duration
	maxRSS int64 // KiB
}

func main() {
	n := flag.Int("n", 30, "runs per row")
	latency := flag.Duration("latency", 0, "emulator latency per request (simulates the network)")
	flag.Parse()
	if err := run(*n, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int, latency time.Duration) error {
	tmp, err := os.MkdirTemp("", "cloudsmith-oidc-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "cloudsmith-oidc")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/cloudsmith-oidc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}

	iss, err := oidctest.Start("bench")
	if err != nil {
		return err
	}
	defer iss.Close()
	var opts []cloudsmithtest.Option
	if latency > 0 {
		opts = append(opts, cloudsmithtest.WithLatency(latency))
	}
	cs, err := cloudsmithtest.Start(opts...)
	if err != nil {
		return err
	}
	defer cs.Close()
	if _, err := cs.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins", Slug: "jenkins"}); err != nil {
		return err
	}
	if err := cs.Cloudsmith.GrantPrivilege(cs.Cloudsmith.Org(), cs.Cloudsmith.Repo(), "jenkins", cloudsmithtest.PrivilegeRead); err != nil {
		return err
	}
	if _, err := cs.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{Name: "Jenkins", ProviderURL: iss.URL, Enabled: true,
		Claims: map[string]any{"aud": "cloudsmith"}, ServiceAccounts: []string{"jenkins"}}); err != nil {
		return err
	}
	mint := func() (string, error) { return iss.Mint("cloudsmith", "bench", nil) }
	out := filepath.Join(tmp, "token")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "CLOUDSMITH_ORG=" + cs.Org, "CLOUDSMITH_SERVICE_SLUG=jenkins",
		"CLOUDSMITH_API_URL=" + cs.APIURL, "CLOUDSMITH_OIDC_CACHE_DIR=" + filepath.Join(tmp, "cache"), "OUT=" + out}

	// Warm the emulator's JWKS cache and the page cache for every tool.
	if tok, err := mint(); err == nil {
		_, _ = measure(env, tok, bin, "exchange", "--no-cache", "--output", out)
		_, _ = measure(env, tok, "bash", "-c", seedPipeline)
	}

	rows := []struct {
		name string
		cmd  func(tok string) []string
		warm bool // run once untimed with the same token first (fills the cache)
	}{
		{"cloudsmith-oidc exchange (no cache)", func(string) []string {
			return []string{bin, "exchange", "--no-cache", "--output", out}
		}, false},
		{"seed curl | jq pipeline (bash)", func(string) []string { return []string{"bash", "-c", seedPipeline} }, false},
		{"cloudsmith-oidc exchange (cached 2nd call)", func(string) []string {
			return []string{bin, "exchange", "--output", out}
		}, true},
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\t%s\t%s\t%s\t%s\t\n", "median", "min", "p90", "peak RSS")
	for _, r := range rows {
		var samples []sample
		for range n {
			tok, err := mint()
			if err != nil {
				return err
			}
			argv := r.cmd(tok)
			if r.warm {
				if _, err := measure(env, tok, argv[0], argv[1:]...); err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
			}
			s, err := measure(env, tok, argv[0], argv[1:]...)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			samples = append(samples, s)
		}
		slices.SortFunc(samples, func(a, b sample) int { return int(a.wall - b.wall) })
		var rss int64
		for _, s := range samples {
			rss = max(rss, s.maxRSS)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", r.name, ms(samples[len(samples)/2].wall), ms(samples[0].wall),
			ms(samples[len(samples)*9/10].wall), rssString(rss))
	}
	_ = w.Flush()
	fmt.Printf("\ncloudsmith-oidc binary: %.1f MiB (%s/%s, CGO_ENABLED=0, -trimpath -s -w); %d runs per row, emulator latency %s\n",
		float64(fi.Size())/(1<<20), runtime.GOOS, runtime.GOARCH, n, latency)
	return nil
}

// measure runs one command with the token in its environment and returns
// its wall time and peak RSS (from wait4's rusage: the largest of the
// process and the descendants it waited for).
func measure(env []string, oidc, name string, args ...string) (sample, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(append([]string(nil), env...), "OIDC_TOKEN="+oidc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, strings.ReplaceAll(stderr.String(), oidc, "****"))
	}
	s := sample{wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.maxRSS = int64(ru.Maxrss)
		if runtime.GOOS == "darwin" {
			s.maxRSS /= 1024 // bytes there, KiB on Linux
		}
	}
	return s, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func rssString(kib int64) string {
	if kib == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}
