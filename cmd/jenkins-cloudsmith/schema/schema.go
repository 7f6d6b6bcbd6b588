// Package schema implements `jenkins-cloudsmith schema`: print the JSON
// Schema of the spec so editors complete and check spec files.
package schema

import (
	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// NewCmd returns the schema command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the spec file, for editor completion",
		Long: `Schema prints the JSON Schema (draft 2020-12) of the spec on stdout. Save it
next to your spec and point your editor at it; with the YAML language server
(VS Code, Neovim, ...) add this first line to the spec:

  # yaml-language-server: $schema=./jenkins-cloudsmith.schema.json

The schema is generated from the same definitions validate uses, so it never
lists a key validate refuses. validate still checks more than a schema can
(duplicate jobs, Jenkins naming, secrets, URL rules).`,
		Example: `  jenkins-cloudsmith schema > jenkins-cloudsmith.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := f.IO.Out.Write(spec.Schema())
			return err
		},
	}
}
