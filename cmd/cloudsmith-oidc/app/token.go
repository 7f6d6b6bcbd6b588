package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/tokencache"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// session is an exchanged (or cached) Cloudsmith token with the OIDC token
// it came from; both are secrets to mask.
type session struct {
	oidc   string
	token  string
	expiry time.Time
	cached bool
}

// secrets returns the raw secrets of s.
func (s *session) secrets() []string { return []string{s.token, s.oidc} }

// exchange returns a Cloudsmith token for o: from the cache when a live
// entry exists for the same API URL, org, service and OIDC token, else by
// calling Cloudsmith (and caching the result).
func (a *app) exchange(ctx context.Context, o *options) (*session, error) {
	oidc, err := a.oidcToken(o)
	if err != nil {
		return nil, err
	}
	if o.org == "" {
		return nil, errors.New("no organization: set CLOUDSMITH_ORG or --org to the org's slug")
	}
	if o.service == "" {
		return nil, errors.New("no service account: set CLOUDSMITH_SERVICE_SLUG or --service to the service account's slug")
	}
	s := &session{oidc: oidc}
	// The client checks the API URL (https, or plain http to loopback
	// only) before the cache is even looked at, so a wrong URL fails the
	// same way whether or not a token is cached.
	client, err := cloudsmith.NewClient(cloudsmith.Options{
		APIURL:    o.apiURL,
		CABundle:  o.caBundle,
		UserAgent: "cloudsmith-oidc/" + a.version,
		Logger:    a.logger(o),
	})
	if err != nil {
		return nil, err
	}

	var cache *tokencache.Cache
	key := tokencache.Key(o.apiURL, o.org, o.service, oidc)
	if !o.noCache {
		cache, err = tokencache.Open(a.cacheDir(o), nil)
		if err != nil {
			// A cache we can't trust is skipped, not fatal: the exchange
			// still works.
			fmt.Fprintf(a.io.ErrOut, "%s: warning: not caching: %v\n", a.prog, err)
			cache = nil
		} else if e, ok := cache.Get(key); ok {
			s.token, s.expiry, s.cached = e.Token, e.Expiry, true
			return s, nil
		}
	}

	tok, err := client.Exchange(ctx, o.org, o.service, oidc)
	if err != nil {
		// The client never puts tokens in errors; mask anyway, as the
		// error is printed to a build log.
		return nil, errors.New(redact.String(err.Error(), oidc))
	}
	s.token, s.expiry = tok.Value, tok.Expiry
	if cache != nil {
		if err := cache.Put(key, tokencache.Entry{Token: s.token, Expiry: s.expiry}); err != nil {
			fmt.Fprintf(a.io.ErrOut, "%s: warning: %v\n", a.prog, redact.String(err.Error(), s.secrets()...))
		}
	}
	return s, nil
}

// cacheDir is --cache-dir, else $WORKSPACE_TMP/cloudsmith-oidc (Jenkins'
// per-workspace temporary directory, removed with the workspace), else the
// user cache directory.
func (a *app) cacheDir(o *options) string {
	if o.cacheDir != "" {
		return o.cacheDir
	}
	if w := a.io.Getenv("WORKSPACE_TMP"); w != "" {
		return filepath.Join(w, "cloudsmith-oidc")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cloudsmith-oidc")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("cloudsmith-oidc-%d", os.Getuid()))
}

// logger logs HTTP attempts to stderr with --verbose; otherwise nothing.
func (a *app) logger(o *options) *slog.Logger {
	if !o.verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(a.io.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
