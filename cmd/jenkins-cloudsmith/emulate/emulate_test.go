package emulate

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

func TestEmulatePrintsOneLineAndServes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		warn     bool
		plugins  string
		absent   string
		wantFail bool
	}{
		{name: "defaults", args: nil, plugins: "oidc-provider"},
		{name: "without plugins", args: []string{"--without-plugins", "oidc-provider,workflow-cps", "--latency", "1ms"}, plugins: "credentials", absent: "oidc-provider"},
		{name: "localhost", args: []string{"--jenkins-addr", "127.0.0.1:0", "--fault-rate", "0"}, plugins: "credentials"},
		{name: "bad fault rate", args: []string{"--fault-rate", "2"}, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test(nil)
			pr, pw := io.Pipe()
			ios.Out = pw
			f := &cmdutil.Factory{IO: ios, Version: "test"}
			cmd := NewCmd(f)
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
			defer func() {
				cancel()
				if err := <-done; err != nil && !tt.wantFail {
					t.Error(err)
				}
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if tt.wantFail {
				if err == nil {
					t.Fatalf("expected failure, got %q", line)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ep Endpoints
			dec := json.NewDecoder(strings.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ep); err != nil || ep.Jenkins == nil || ep.Jenkins.User != "admin" || ep.Jenkins.Token == "" || !strings.HasPrefix(ep.Jenkins.URL, "http://127.0.0.1:") || !strings.HasSuffix(ep.Jenkins.URL, "/") {
				t.Fatalf("line %q: %v", line, err)
			}
			if !strings.HasPrefix(line, `{"jenkins":{"url":"http://127.0.0.1:`) {
				t.Errorf("line shape %q", line)
			}
			if got := strings.Contains(errOut.String(), "warning:"); got != tt.warn {
				t.Errorf("warning = %v: %q", got, errOut.String())
			}
			req, _ := http.NewRequest("GET", ep.Jenkins.URL+"pluginManager/api/json?tree=plugins[shortName]", nil)
			req.SetBasicAuth(ep.Jenkins.User, ep.Jenkins.Token)
			hc := &http.Client{Timeout: 5 * time.Second}
			res, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(body), `"`+tt.plugins+`"`) || tt.absent != "" && strings.Contains(string(body), `"`+tt.absent+`"`) {
				t.Errorf("%d %s", res.StatusCode, body)
			}
		})
	}
}

// TestHostKeysAreTheBinarysVariables: the line names every emulated host
// by a key of cloudsmith-oidc's host table, and every host of that table
// is emulated, so `export CLOUDSMITH_<KEY>=...` for each key points the
// binary at the emulator.
func TestHostKeysAreTheBinarysVariables(t *testing.T) {
	cs, err := cloudsmithtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	line, err := json.Marshal(CloudsmithEndpoint{Hosts: cs.Endpoints(), APIKey: "k", Org: "o", Repo: "r"})
	if err != nil {
		t.Fatal(err)
	}
	var back CloudsmithEndpoint
	if err := json.Unmarshal(line, &back); err != nil || back.APIKey != "k" || len(back.Hosts) != len(cs.Endpoints()) {
		t.Fatalf("round trip of %s: %+v %v", line, back, err)
	}
	var got, want []string
	for k, v := range back.Hosts {
		got = append(got, k)
		e, ok := pkgconfig.EndpointOf(k)
		switch {
		case !ok:
			t.Errorf("%s is no host of cloudsmith-oidc's table", k)
		case e.Bare == strings.Contains(v, "://"):
			t.Errorf("%s = %q: a bare host is host:port, the others URLs", k, v)
		}
	}
	for _, e := range pkgconfig.Endpoints() {
		want = append(want, e.Key)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("emulated hosts %q, cloudsmith-oidc's hosts %q", got, want)
	}
}
