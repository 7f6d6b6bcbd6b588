package root_test

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/root"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

// fetchesIssuer are the commands that fetch the hosted issuer documents,
// the only ones --ca-bundle changes anything for.
var fetchesIssuer = map[string]bool{
	"jenkins-cloudsmith doctor": true, "jenkins-cloudsmith discovery check": true, "jenkins-cloudsmith rotate": true,
}

// TestFlagsMeanTheSame: -f is the spec file with one default, -o the
// output format (text or json), and a directory is --out, in every
// command that has them; no command offers a flag it ignores (--ca-bundle
// where no issuer document is fetched).
func TestFlagsMeanTheSame(t *testing.T) {
	ios, _, _, _ := iostreams.Test(nil)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
			name := c.CommandPath() + " --" + fl.Name
			switch {
			case fl.Hidden:
			case fl.Shorthand == "f" && (fl.Name != "file" || fl.DefValue != "jenkins-cloudsmith.yaml"):
				t.Errorf("%s: -f must be --file defaulting to jenkins-cloudsmith.yaml (default %q)", name, fl.DefValue)
			case fl.Shorthand == "o" && (fl.Name != "output" || fl.DefValue != "text" || !strings.Contains(fl.Usage, "json")):
				t.Errorf("%s: -o must be --output, text or json, default text (usage %q)", name, fl.Usage)
			case fl.Name == "output" && fl.Shorthand != "o":
				t.Errorf("%s: --output must have -o", name)
			case fl.Name == "file" && fl.Shorthand != "f":
				t.Errorf("%s: --file must have -f", name)
			case fl.Name == "ca-bundle" && !fetchesIssuer[c.CommandPath()]:
				t.Errorf("%s: only commands that fetch the hosted issuer documents take --ca-bundle; this one would ignore it", name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root.New(&cmdutil.Factory{IO: ios, Version: "test"}))
}
