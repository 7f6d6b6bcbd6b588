package cloudsmithtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// Server is a running emulator: one loopback listener per Cloudsmith host,
// so URLs have Cloudsmith's shapes ({DownloadURL}/basic/{org}/{repo}/python/simple/,
// {NPMURL}/{org}/{repo}/, {GoURL}/{org}/{repo}/). URLs have no trailing slash,
// like Cloudsmith's default hosts (https://api.cloudsmith.io).
type Server struct {
	APIURL      string
	DownloadURL string
	NPMURL      string
	GoURL       string
	// URLs holds the base URL of every host (see Hosts), the fields above
	// included.
	URLs map[Host]string
	// APIKey is the org owner's key (management API and every package host).
	APIKey string
	Org    string
	Repo   string
	// CACertPEM is the self-signed certificate of the hosts served over
	// https (WithTLS); nil when every host is plain http.
	CACertPEM []byte

	Cloudsmith *Cloudsmith

	servers []*http.Server
	pool    *x509.CertPool
}

// Start runs a new emulator on 127.0.0.1 with a listener per host.
func Start(opts ...Option) (*Server, error) {
	c := New(opts...)
	s := &Server{APIKey: c.APIKey(), Org: c.Org(), Repo: c.Repo(), Cloudsmith: c, URLs: map[Host]string{}}
	var tlsConf *tls.Config
	if len(c.cfg.tlsHosts) > 0 {
		cert, certPEM, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("cloudsmithtest: creating a TLS certificate: %w", err)
		}
		s.CACertPEM = certPEM
		s.pool = x509.NewCertPool()
		s.pool.AppendCertsFromPEM(certPEM)
		// HTTP/1.1 only, so injected connection resets can hijack the conn.
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	}
	for _, h := range Hosts() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("cloudsmithtest: listening for the %s host: %w", h, err)
		}
		// ErrorLog is silenced: clients that distrust the self-signed
		// certificate or hang up on purpose are not server errors.
		srv := &http.Server{Handler: c.Handler(h), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		scheme := "http"
		if c.cfg.tlsHosts[h] {
			scheme = "https"
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
			ln = tls.NewListener(ln, tlsConf)
		}
		s.servers = append(s.servers, srv)
		s.URLs[h] = scheme + "://" + ln.Addr().String()
		go func() { _ = srv.Serve(ln) }()
	}
	c.mu.Lock()
	c.hostURLs = s.URLs
	c.mu.Unlock()
	s.APIURL, s.DownloadURL, s.NPMURL, s.GoURL = s.URLs[HostAPI], s.URLs[HostDownload], s.URLs[HostNPM], s.URLs[HostGo]
	return s, nil
}

// hostKeys name the hosts whose key is not "<host>_url".
var hostKeys = map[Host]string{HostPython: "python_upload_url", HostMaven: "maven_upload_url", HostDocker: "docker_registry"}

// Key names the host as cloudsmith-oidc and the spec do: upper-cased
// behind CLOUDSMITH_ it is the binary's variable for it (api_url is
// CLOUDSMITH_API_URL). A key ending in "_registry" is a host[:port].
func (h Host) Key() string {
	if k, ok := hostKeys[h]; ok {
		return k
	}
	return string(h) + "_url"
}

// Endpoints returns every host's base URL by Key (a registry's as
// host:port), what `jenkins-cloudsmith emulate` prints and what the
// binary's CLOUDSMITH_<KEY> variables take.
func (s *Server) Endpoints() map[string]string {
	out := map[string]string{}
	for h, u := range s.URLs {
		if strings.HasSuffix(h.Key(), "_registry") {
			u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
		}
		out[h.Key()] = u
	}
	return out
}

// Env returns CLOUDSMITH_<KEY>=<url> for every host, the environment that
// points cloudsmith-oidc at this emulator.
func (s *Server) Env() []string {
	var out []string
	for k, u := range s.Endpoints() {
		out = append(out, "CLOUDSMITH_"+strings.ToUpper(k)+"="+u)
	}
	sort.Strings(out)
	return out
}

// selfSigned makes a certificate for the loopback names that is its own CA,
// as net/http/httptest does.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cloudsmithtest", Organization: []string{"Cloudsmith emulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

// Client returns an HTTP client that trusts the emulator's certificate (a
// plain client when no host uses TLS).
func (s *Server) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Close stops every listener, waiting briefly for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err, srv.Close())
		}
	}
	s.Cloudsmith.mu.Lock()
	st := s.Cloudsmith.cargo
	s.Cloudsmith.mu.Unlock()
	if st != nil {
		// The git indexes built for Cargo.
		st.mu.Lock()
		if st.root != "" {
			errs = append(errs, os.RemoveAll(st.root))
		}
		st.mu.Unlock()
	}
	return errors.Join(errs...)
}

// PythonIndexURL is the pip index URL of the seeded repository (without
// credentials).
func (s *Server) PythonIndexURL() string {
	return s.DownloadURL + "/basic/" + s.Org + "/" + s.Repo + "/python/simple/"
}

// NPMRegistryURL is the npm registry URL of the seeded repository.
func (s *Server) NPMRegistryURL() string { return s.NPMURL + "/" + s.Org + "/" + s.Repo + "/" }

// GoProxyURL is the GOPROXY of the seeded repository (without credentials).
func (s *Server) GoProxyURL() string { return s.GoURL + "/" + s.Org + "/" + s.Repo + "/" }

// RawURL is the URL of the demo raw file.
func (s *Server) RawURL() string {
	return s.DownloadURL + "/basic/" + s.Org + "/" + s.Repo + "/raw/files/" + DemoRawFile
}

// PythonUploadURL is the twine upload URL of the seeded repository.
func (s *Server) PythonUploadURL() string {
	return s.URLs[HostPython] + "/" + s.Org + "/" + s.Repo + "/"
}

// HelmRepoURL is the Helm chart repository URL of the seeded repository
// (without credentials), ending in "/".
func (s *Server) HelmRepoURL() string {
	return s.DownloadURL + "/basic/" + s.Org + "/" + s.Repo + "/helm/charts/"
}
