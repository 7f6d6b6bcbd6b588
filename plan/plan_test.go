package plan_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

const secretToken = plantest.SecretToken

var (
	testSpec = plantest.Spec
	jobXML   = plantest.JobXML
	credForm = plantest.CredentialForm
	desired  = plantest.Output
)

func folderXML(string) []byte { return plantest.FolderXML() }

// synced returns a controller that already matches desired(), with the
// plugin attributes Jenkins adds on save (they must not count).
func synced() *plantest.Fake {
	f := plantest.Synced(desired())
	for _, it := range f.Items {
		it.Config = bytes.ReplaceAll(it.Config, []byte("<builders>"), []byte(`<builders plugin="x@1">`))
	}
	return f
}

type want struct {
	changes []string // "action kind name"
	rotates bool
	err     string // substring of the error
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *plantest.Fake, out *render.Output)
		opt   plan.Options
		want  want
	}{
		{
			name:  "empty controller: create everything, folders first, key generated",
			setup: func(f *plantest.Fake, out *render.Output) { clear(f.Items); clear(f.Credentials) },
			want: want{changes: []string{"create folder team-a", "create credential oidc-token-cred",
				"create job team-a/build-wheel", "create job hello"}, rotates: true},
		},
		{
			name:  "in sync: nothing to do",
			setup: func(f *plantest.Fake, out *render.Output) {},
			want:  want{},
		},
		{
			name: "hand-edited job is restored",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["hello"].Config = jobXML("freestyle", "Hello", "rm -rf /")
			},
			want: want{changes: []string{"update job hello"}},
		},
		{
			name: "type change is a replace",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["hello"].Config = jobXML("pipeline", "Hello", "echo")
			},
			want: want{changes: []string{"replace job hello"}},
		},
		{
			name: "unmanaged job in the way is a conflict",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["hello"].Config = []byte(`<project><description>mine</description></project>`)
			},
			want: want{err: `job "hello" exists but was not created by jenkins-cloudsmith`},
		},
		{
			name: "managed job whose description was edited in the UI is drift, not a conflict",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["hello"].Config = editDescription(t, out, "hello", "edited in the UI")
			},
			want: want{changes: []string{"update job hello"}},
		},
		{
			name: "unmanaged job adopted with --adopt",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["hello"].Config = []byte(`<project><description>mine</description></project>`)
			},
			opt:  plan.Options{Adopt: true},
			want: want{changes: []string{"update job hello"}},
		},
		{
			name: "job where a folder must be is a conflict",
			setup: func(f *plantest.Fake, out *render.Output) {
				clear(f.Items)
				f.Items["team-a"] = &plantest.Item{Config: jobXML("freestyle", "", "")}
			},
			want: want{err: `"team-a" is a job`},
		},
		{
			name: "prune deletes only managed jobs outside the spec",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["old"] = &plantest.Item{Config: jobXML("freestyle", "old", "")}
				f.Items["team-a/old"] = &plantest.Item{Config: jobXML("pipeline", "old", "")}
				f.Items["theirs"] = &plantest.Item{Config: []byte(`<project><description>not ours</description></project>`)}
				f.Items["their-folder"] = &plantest.Item{Folder: true, Config: folderXML("")}
			},
			opt:  plan.Options{Prune: true},
			want: want{changes: []string{"delete job old", "delete job team-a/old"}},
		},
		{
			name: "without prune stale managed jobs stay",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Items["old"] = &plantest.Item{Config: jobXML("freestyle", "old", "")}
			},
			want: want{},
		},
		{
			name: "audience change rotates the key",
			setup: func(f *plantest.Fake, out *render.Output) {
				out.Credential.FormJSON = credForm("string", "cloudsmith")
			},
			want: want{changes: []string{"update credential oidc-token-cred"}, rotates: true},
		},
		{
			name: "kind change replaces the credential",
			setup: func(f *plantest.Fake, out *render.Output) {
				out.Credential.FormJSON = credForm("file", "jenkins")
			},
			want: want{changes: []string{"replace credential oidc-token-cred"}, rotates: true},
		},
		{
			name:  "missing plugin is an error naming it",
			setup: func(f *plantest.Fake, out *render.Output) { delete(f.Plugins, "oidc-provider") },
			want:  want{err: "required plugins not installed: oidc-provider"},
		},
		{
			name: "disabled plugin cannot be installed",
			setup: func(f *plantest.Fake, out *render.Output) {
				f.Plugins["workflow-cps"] = jenkins.Plugin{ShortName: "workflow-cps"}
			},
			opt:  plan.Options{InstallPlugins: true},
			want: want{err: "required plugins disabled: workflow-cps"},
		},
		{
			name:  "missing plugin planned for install",
			setup: func(f *plantest.Fake, out *render.Output) { delete(f.Plugins, "oidc-provider") },
			opt:   plan.Options{InstallPlugins: true},
			want:  want{changes: []string{"install plugin oidc-provider"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := synced()
			out := desired()
			tt.setup(f, out)
			f.ResetCalls()
			p, err := plan.Compute(context.Background(), plan.Input{Spec: testSpec(), Output: out, Jenkins: f}, tt.opt)
			if tt.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want.err) {
					t.Fatalf("err = %v, want containing %q", err, tt.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range p.Changes {
				got = append(got, string(c.Action)+" "+string(c.Kind)+" "+c.Name)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want.changes, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want.changes, "\n"))
			}
			if p.RotatesKey() != tt.want.rotates {
				t.Errorf("RotatesKey = %v, want %v", p.RotatesKey(), tt.want.rotates)
			}
			if f.Writes() != 0 {
				t.Errorf("planning wrote %d times", f.Writes())
			}
			if n := f.Calls("ListJobs"); n != 1 {
				t.Errorf("ListJobs called %d times, want 1", n)
			}
		})
	}
}

// A no-op plan costs one config read per existing desired job, plus a
// constant few.
func TestComputeReadsOncePerJob(t *testing.T) {
	f := synced()
	f.ResetCalls()
	if _, err := plan.Compute(context.Background(), plan.Input{Spec: testSpec(), Output: desired(), Jenkins: f}, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls("JobConfig"); got != len(desired().Jobs) {
		t.Errorf("JobConfig calls = %d, want %d", got, len(desired().Jobs))
	}
}

func TestDiffIsReadableAndRedacted(t *testing.T) {
	f := synced()
	f.Items["hello"].Config = jobXML("freestyle", "Hello", "echo "+secretToken)
	p, err := plan.Compute(context.Background(), plan.Input{Spec: testSpec(), Output: desired(), Jenkins: f}, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 {
		t.Fatalf("changes = %+v", p.Changes)
	}
	d := p.Changes[0].Diff
	for _, w := range []string{"--- jenkins/hello/config.xml", "+++ spec/hello/config.xml", "@@ ", "-      <command>echo ****</command>",
		"+      <command>cloudsmith-oidc exec -- pip install x</command>"} {
		if !strings.Contains(d, w) {
			t.Errorf("diff lacks %q:\n%s", w, d)
		}
	}
	var text, js bytes.Buffer
	if err := views.PlanText(&text, p, nil); err != nil {
		t.Fatal(err)
	}
	if err := views.PlanJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text.String(), js.String()} {
		if strings.Contains(out, secretToken) {
			t.Errorf("output leaks the token:\n%s", out)
		}
	}
	if !strings.Contains(text.String(), "~ update job hello") {
		t.Errorf("text:\n%s", text.String())
	}
}

func TestFaultsSurface(t *testing.T) {
	f := synced()
	boom := errors.New("connection reset by peer")
	f.Fault = func(method, name string, before bool) error {
		if method == "JobConfig" && name == "hello" {
			return boom
		}
		return nil
	}
	_, err := plan.Compute(context.Background(), plan.Input{Spec: testSpec(), Output: desired(), Jenkins: f}, plan.Options{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `job "hello"`) {
		t.Fatalf("err = %v", err)
	}
}

// After `rotate` the spec's credential is gone and its successor is the
// active one: Compute plans for the successor, and a caller that cannot
// re-render gets an error instead of a plan that re-creates the original
// id (a needless new key) and points the jobs back at it.
func TestComputeFollowsRotation(t *testing.T) {
	rotated := func() *plantest.Fake {
		f := synced()
		for k, c := range f.Credentials {
			delete(f.Credentials, k)
			c.ID += "--r2"
			f.Credentials[k+"--r2"] = c
		}
		return f
	}
	ctx := context.Background()

	_, err := plan.Compute(ctx, plan.Input{Spec: testSpec(), Output: desired(), Jenkins: rotated()}, plan.Options{})
	if err == nil || !strings.Contains(err.Error(), `rotated to "oidc-token-cred--r2"`) {
		t.Fatalf("Compute without Render: err = %v, want the rotation named", err)
	}

	var rendered []string
	in := plan.Input{Spec: testSpec(), Output: desired(), Jenkins: rotated(),
		Render: func(s *spec.Spec) (*render.Output, error) {
			rendered = append(rendered, s.OIDC.Credential)
			out := desired()
			out.Credential.FormJSON = bytes.ReplaceAll(out.Credential.FormJSON, []byte(`"oidc-token-cred"`), []byte(`"`+s.OIDC.Credential+`"`))
			return out, nil
		}}
	p, err := plan.Compute(ctx, in, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.OIDC.Credential != "oidc-token-cred--r2" || len(rendered) != 1 || rendered[0] != "oidc-token-cred--r2" {
		t.Errorf("planned for %q after rendering %q, want the successor", p.Spec.OIDC.Credential, rendered)
	}
	for _, c := range p.Changes {
		if c.Kind == plan.KindCredential {
			t.Errorf("plan after rotate touches the credential: %+v", c)
		}
	}
}

// editDescription is the job's rendered config.xml with its description
// replaced, as the UI's "Edit description" leaves it (marker gone).
func editDescription(t *testing.T, out *render.Output, name, desc string) []byte {
	t.Helper()
	for _, j := range out.Jobs {
		if j.Name != name {
			continue
		}
		s := string(j.ConfigXML)
		i, k := strings.Index(s, "<description>"), strings.Index(s, "</description>")
		if i < 0 || k < i {
			t.Fatalf("no description in %s", s)
		}
		return []byte(s[:i] + "<description>" + desc + s[k:])
	}
	t.Fatalf("no job %q", name)
	return nil
}
