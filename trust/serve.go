package trust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Server serves an issuer's two documents, refreshed from Jenkins, for
// users who host a custom issuer themselves (behind their TLS proxy). On a
// failed refresh it keeps serving the last good copy: a Jenkins restart
// must not take the issuer down.
type Server struct {
	// Fetch reads the current documents (FromJenkins).
	Fetch func(ctx context.Context) (*Documents, error)
	// Refresh is the interval between fetches (default 1m).
	Refresh time.Duration
	// Logger receives one line per refresh that changed something or
	// failed.
	Logger *slog.Logger

	mu      sync.RWMutex
	docs    *Documents
	fetched time.Time
}

// Load fetches the documents once; Run calls it first and fails if it
// does, so a server never starts with nothing to serve.
func (s *Server) Load(ctx context.Context) error {
	d, err := s.Fetch(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.docs
	s.docs, s.fetched = d, time.Now()
	s.mu.Unlock()
	switch {
	case old == nil:
		s.log().Info("serving issuer documents", "issuer", d.Issuer, "kids", strings.Join(d.Kids(), ","))
	case !bytes.Equal(old.JWKS, d.JWKS) || !bytes.Equal(old.Config, d.Config):
		s.log().Info("issuer documents changed", "issuer", d.Issuer, "kids", strings.Join(d.Kids(), ","))
	default:
		s.log().Info("refreshed issuer documents: unchanged", "issuer", d.Issuer)
	}
	return nil
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// ServeHTTP answers GET and HEAD for <issuer path>/.well-known/openid-configuration
// and <issuer path>/jwks (also without the issuer's path prefix, for a
// proxy that strips it), as application/json; anything else is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	d, fetched := s.docs, s.fetched
	s.mu.RUnlock()
	if d == nil {
		http.Error(w, "issuer documents not loaded yet", http.StatusServiceUnavailable)
		return
	}
	prefix := ""
	if u, err := url.Parse(d.Issuer); err == nil {
		prefix = strings.TrimSuffix(u.EscapedPath(), "/")
	}
	var body []byte
	switch strings.TrimPrefix(r.URL.EscapedPath(), prefix) {
	case "/" + ConfigPath:
		body = d.Config
	case "/" + JWKSPath:
		body = d.JWKS
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// Relying parties cache JWKS; keep it short so a rotation is seen soon.
	w.Header().Set("Cache-Control", "public, max-age=60")
	http.ServeContent(w, r, "", fetched, bytes.NewReader(body))
}

// Run loads the documents, serves them on ln and refreshes them every
// Refresh until ctx ends, then shuts down gracefully (in-flight requests
// get 5s).
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if err := s.Load(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("first fetch of the issuer documents: %w", err)
	}
	every := s.Refresh
	if every <= 0 {
		every = time.Minute
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	s.log().Info("listening", "addr", ln.Addr().String(), "refresh", every.String())
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return err
			}
			<-done
			return nil
		case err := <-done:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		case <-tick.C:
			fctx, cancel := context.WithTimeout(ctx, every)
			if err := s.Load(fctx); err != nil && ctx.Err() == nil {
				s.log().Warn("refresh failed; still serving the last good documents", "err", err)
			}
			cancel()
		}
	}
}
