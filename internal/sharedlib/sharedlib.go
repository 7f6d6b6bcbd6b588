// Package sharedlib serves this repository's shared library (vars/,
// rendered from the embedded templates, so it is exactly the committed
// copy) as a git repository over smart HTTP and registers it on an
// emulated controller as the Global Trusted Pipeline Library an
// administrator would configure, so Jenkinsfiles that say
// @Library('jenkins-cloudsmith') _ run on `emulate` and the demo.
package sharedlib

import (
	"context"
	"fmt"
	"os"
	"testing/fstest"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/gitserve"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
)

// Branch is the branch (and the library's default version) it is served on.
const Branch = "main"

// Library is the served library.
type Library struct {
	// Global is the library as a controller's global trusted library.
	Global jenkinstest.GlobalLibrary

	root string
	srv  *gitserve.Server
}

// Start renders vars/, publishes it and serves it on loopback.
func Start(ctx context.Context) (*Library, error) {
	ren, err := render.New(render.Options{})
	if err != nil {
		return nil, err
	}
	vars, err := ren.Vars()
	if err != nil {
		return nil, err
	}
	files := fstest.MapFS{}
	for name, b := range vars {
		files["vars/"+name] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	root, err := os.MkdirTemp("", "jenkins-cloudsmith-lib-")
	if err != nil {
		return nil, err
	}
	if _, err := gitserve.Publish(ctx, root, render.LibraryName, Branch, "jenkins-cloudsmith shared library", files); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("publishing the shared library: %w", err)
	}
	srv, err := gitserve.Start(root)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	return &Library{
		Global: jenkinstest.GlobalLibrary{Name: render.LibraryName, Remote: srv.URL + render.LibraryName + ".git", DefaultVersion: Branch, AllowOverride: true},
		root:   root, srv: srv,
	}, nil
}

// Option registers the library on a controller.
func (l *Library) Option() jenkinstest.Option { return jenkinstest.WithGlobalLibrary(l.Global) }

// Close stops serving and removes the repository.
func (l *Library) Close() error {
	err := l.srv.Close()
	if rerr := os.RemoveAll(l.root); err == nil {
		err = rerr
	}
	return err
}
