package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

func TestSchemaCommand(t *testing.T) {
	ios, _, out, _ := iostreams.Test(nil)
	cmd := NewCmd(&cmdutil.Factory{IO: ios})
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), spec.Schema()) {
		t.Error("schema command output differs from spec.Schema()")
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m["$schema"] == nil {
		t.Errorf("not a JSON schema: %v", err)
	}
}

func TestSchemaHelp(t *testing.T) {
	ios, _, out, _ := iostreams.Test(nil)
	cmd := NewCmd(&cmdutil.Factory{IO: ios})
	cmd.SetArgs([]string{"--help"})
	cmd.SetOut(out)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "yaml-language-server: $schema=") || !strings.Contains(out.String(), "Examples:") {
		t.Errorf("help lacks modeline or examples:\n%s", out)
	}
}
