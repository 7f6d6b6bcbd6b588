// Command cloudsmith-oidc is the small static binary that Jenkins steps
// call on agents: it trades the build's OIDC ID token for a short-lived
// Cloudsmith token and hands it to package managers without ever printing
// it. See package app for the commands.
package main

import (
	"context"
	"os"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/cloudsmith-oidc/app"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

// version is stamped by the Makefile: -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(app.MainVersion(context.Background(), os.Args, iostreams.System(), version))
}
