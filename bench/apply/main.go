// Command apply benchmarks `jenkins-cloudsmith apply` against the Jenkins
// emulator with per-request latency, next to Jenkins Job Builder's
// `jenkins-jobs update` on the same emulator, and shows that a job edited by
// hand in Jenkins is detected by plan (JJB's cache cannot see it).
//
//	go run ./bench/apply [-jobs 1000] [-latency 4ms] [-parallel 8] [-workers 1,4,8,16]
//
// It prints a Markdown table. The JJB rows are skipped when jenkins-jobs is
// not installed.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
)

func main() {
	jobs := flag.Int("jobs", 1000, "number of jobs")
	latency := flag.Duration("latency", 4*time.Millisecond, "emulator latency per request")
	parallel := flag.Int("parallel", 8, "jenkins-cloudsmith --parallel")
	workers := flag.String("workers", "1,4,8,16", "jenkins-jobs --workers values to try (best is reported)")
	flag.Parse()
	if err := run(*jobs, *latency, *parallel, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// row is one line of the table.
type row struct {
	tool                 string
	first                time.Duration
	firstReqs, firstPost int
	noop                 time.Duration
	noopReqs, noopPost   int
	handEdit             string
}

func run(jobs int, latency time.Duration, parallel int, workers string) error {
	dir, err := os.MkdirTemp("", "bench-apply-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(os.Stderr, "jenkins-cloudsmith: %d jobs, %v latency, --parallel %d\n", jobs, latency, parallel)
	ours, err := benchOurs(dir, jobs, latency, parallel)
	if err != nil {
		return err
	}
	rows := []row{ours}

	if workers == "" {
		fmt.Fprintln(os.Stderr, "-workers empty: skipping the Jenkins Job Builder rows")
	} else if _, err := exec.LookPath("jenkins-jobs"); err != nil {
		fmt.Fprintln(os.Stderr, "jenkins-jobs not installed: skipping the Jenkins Job Builder rows")
	} else {
		var best *row
		for _, w := range strings.Split(workers, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil {
				return fmt.Errorf("-workers: %w", err)
			}
			fmt.Fprintf(os.Stderr, "jenkins-jobs update --workers %d ...\n", n)
			r, err := benchJJB(dir, jobs, latency, n)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "  first %v, no-op %v\n", r.first.Round(time.Millisecond), r.noop.Round(time.Millisecond))
			if best == nil || r.first < best.first {
				best = &r
			}
		}
		rows = append(rows, *best)
	}

	fmt.Printf("\n%d jobs, %v latency per request (jenkinstest), %s\n\n", jobs, latency, time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| tool | first apply | requests (writes) | no-op re-apply | requests (writes) | hand-edited job |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %v | %d (%d) | %v | %d (%d) | %s |\n", r.tool, r.first.Round(time.Millisecond), r.firstReqs, r.firstPost,
			r.noop.Round(time.Millisecond), r.noopReqs, r.noopPost, r.handEdit)
	}
	if len(rows) == 2 {
		// The no-op's fixed reads (whoAmI, plugins, the job listing, the
		// credential) do not grow with the spec; the target is per job.
		fixed := rows[0].noopReqs - jobs
		fmt.Printf("\nfirst apply: %.1fx faster than JJB; no-op: %.1fx faster, %d config reads for %d jobs (1 per job) + %d fixed reads (JJB: %d requests, so it cannot see hand edits)\n",
			float64(rows[1].first)/float64(rows[0].first), float64(rows[1].noop)/float64(rows[0].noop),
			rows[0].noopReqs-fixed, jobs, fixed, rows[1].noopReqs)
	}
	return nil
}

func count(j *jenkinstest.Jenkins) (all, writes int) {
	for _, r := range j.Requests() {
		all++
		if r.Method != "GET" && r.Method != "HEAD" {
			writes++
		}
	}
	return all, writes
}

func jobName(i int) string { return fmt.Sprintf("bench-%04d", i) }

func benchOurs(dir string, jobs int, latency time.Duration, parallel int) (row, error) {
	r := row{tool: fmt.Sprintf("jenkins-cloudsmith apply --parallel %d", parallel)}
	srv, err := jenkinstest.Start(jenkinstest.WithLatency(latency))
	if err != nil {
		return r, err
	}
	defer srv.Close()
	names := make([]string, jobs)
	for i := range names {
		names[i] = jobName(i)
	}
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(plantest.SpecYAML(srv.URL, names...)), 0o600); err != nil {
		return r, err
	}
	token := srv.Jenkins.AdminToken()
	ios, _, _, _ := iostreams.Test(map[string]string{"JENKINS_API_TOKEN": token})
	o := apply.LoadOptions{File: specPath, Getenv: ios.Getenv, Plan: plan.Options{Parallel: parallel}}
	run := func() (time.Duration, int, int, error) {
		srv.Jenkins.ResetRequests()
		start := time.Now()
		s, err := apply.Load(o)
		if err != nil {
			return 0, 0, 0, err
		}
		if _, err := s.Apply(context.Background(), apply.RunOptions{}); err != nil {
			return 0, 0, 0, err
		}
		d := time.Since(start)
		all, w := count(srv.Jenkins)
		return d, all, w, nil
	}
	if r.first, r.firstReqs, r.firstPost, err = run(); err != nil {
		return r, err
	}
	if r.noop, r.noopReqs, r.noopPost, err = run(); err != nil {
		return r, err
	}

	// Edit one job by hand, as someone in the UI would, then plan.
	s, err := apply.Load(o)
	if err != nil {
		return r, err
	}
	name := jobName(7)
	cfg, err := s.Targets.Jenkins.JobConfig(context.Background(), name)
	if err != nil {
		return r, err
	}
	edited := bytes.Replace(cfg, []byte("echo 7"), []byte("echo edited by hand"), 1)
	if err := s.Targets.Jenkins.UpdateJob(context.Background(), name, edited); err != nil {
		return r, err
	}
	if err := s.Compute(context.Background()); err != nil {
		return r, err
	}
	var found []string
	for _, c := range s.Plan.Changes {
		found = append(found, fmt.Sprintf("%s %s", c.Action, c.Name))
	}
	if len(found) == 1 && found[0] == "update "+name {
		r.handEdit = "detected by plan (`~ update job " + name + "`), restored by apply"
		fmt.Fprintln(os.Stderr, "\nplan after editing "+name+" by hand:")
		_ = views.PlanText(os.Stderr, s.Plan, nil)
	} else {
		r.handEdit = fmt.Sprintf("NOT detected as expected: %v", found)
	}
	return r, nil
}

func benchJJB(dir string, jobs int, latency time.Duration, workers int) (row, error) {
	r := row{tool: fmt.Sprintf("jenkins-jobs update --workers %d (JJB)", workers)}
	srv, err := jenkinstest.Start(jenkinstest.WithLatency(latency))
	if err != nil {
		return r, err
	}
	defer srv.Close()
	wd, err := os.MkdirTemp(dir, "jjb-")
	if err != nil {
		return r, err
	}
	var y strings.Builder
	for i := range jobs {
		if i%2 == 0 {
			fmt.Fprintf(&y, "- job:\n    name: %s\n    project-type: freestyle\n    description: job %d\n    builders:\n      - shell: echo %d\n", jobName(i), i, i)
		} else {
			fmt.Fprintf(&y, "- job:\n    name: %s\n    project-type: pipeline\n    description: job %d\n    dsl: |\n      echo '%d'\n", jobName(i), i, i)
		}
	}
	jobsDir := filepath.Join(wd, "jobs")
	if err := os.MkdirAll(jobsDir, 0o700); err != nil {
		return r, err
	}
	if err := os.WriteFile(filepath.Join(jobsDir, "jobs.yaml"), []byte(y.String()), 0o600); err != nil {
		return r, err
	}
	ini := fmt.Sprintf("[job_builder]\nignore_cache=False\n\n[jenkins]\nurl=%s\nuser=admin\npassword=%s\nquery_plugins_info=False\n",
		srv.URL, srv.Jenkins.AdminToken())
	iniPath := filepath.Join(wd, "jenkins_jobs.ini")
	if err := os.WriteFile(iniPath, []byte(ini), 0o600); err != nil {
		return r, err
	}
	update := func() (time.Duration, int, int, error) {
		srv.Jenkins.ResetRequests()
		cmd := exec.Command("jenkins-jobs", "--conf", iniPath, "update", "--workers", strconv.Itoa(workers), jobsDir)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(wd, "cache"), "HOME="+wd)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, 0, 0, fmt.Errorf("jenkins-jobs update: %w\n%s", err, tail(stderr.String()))
		}
		d := time.Since(start)
		all, w := count(srv.Jenkins)
		return d, all, w, nil
	}
	if r.first, r.firstReqs, r.firstPost, err = update(); err != nil {
		return r, err
	}
	if r.noop, r.noopReqs, r.noopPost, err = update(); err != nil {
		return r, err
	}
	// Edit one job by hand, then update again: JJB only compares its own
	// cache of what it generated, so it sends nothing.
	name := jobName(7)
	edited := "<flow-definition><description>edited by hand</description></flow-definition>"
	jc, err := jenkins.New(jenkins.Config{URL: srv.URL, User: "admin", Token: srv.Jenkins.AdminToken()})
	if err != nil {
		return r, err
	}
	if err := jc.UpdateJob(context.Background(), name, []byte(edited)); err != nil {
		return r, err
	}
	if _, _, w, err := update(); err != nil {
		return r, err
	} else if w == 0 {
		r.handEdit = "not detected: update sent no request for " + name + " (cache only)"
	} else {
		r.handEdit = fmt.Sprintf("update wrote %d times", w)
	}
	return r, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}
