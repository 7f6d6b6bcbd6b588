package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// checkTools fails early, with the fix, when a build could not run: the
// Jenkins emulator runs shell steps with /bin/sh (dash on Debian) and
// Pipeline scripts with Groovy 2.4, and both jobs install with python3's pip.
func checkTools(ctx context.Context) (string, error) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		return "", errors.New("/bin/sh is missing: the Jenkins emulator runs shell steps with /bin/sh -xe, as Jenkins does")
	}
	if _, _, err := jenkinstest.FindGroovy(); err != nil {
		return "", fmt.Errorf("the demo builds a Pipeline job: %w", err)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		return "", errors.New("python3 is not on PATH: the demo's build installs a package with pip (install Python 3 and pip, e.g. apt-get install python3-pip)")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "python3", "-m", "pip", "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("python3 -m pip --version failed (%w): the demo's build installs a package with pip; install pip (e.g. apt-get install python3-pip, or python3 -m ensurepip --user)", err)
	}
	// "pip 23.3.1 from /usr/lib/python3/dist-packages/pip (python 3.11)"
	v := strings.Fields(string(out))
	if len(v) >= 2 {
		return "/bin/sh, groovy, python3, pip " + v[1], nil
	}
	return "/bin/sh, groovy, python3, pip", nil
}

// issuer serves the custom issuer's two discovery documents on loopback,
// as a user would behind their own TLS proxy (trust.Server, the same code
// as `discovery serve`). Its address is fixed before the spec is written,
// and it serves 503 until load has read the documents from Jenkins.
type issuer struct {
	URL string
	srv *trust.Server
	hs  *http.Server
	ln  net.Listener
}

func startIssuer() (*issuer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the custom issuer: %w", err)
	}
	is := &issuer{URL: "http://" + ln.Addr().String() + "/issuer", srv: &trust.Server{}, ln: ln}
	is.hs = &http.Server{Handler: is.srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = is.hs.Serve(ln) }()
	return is, nil
}

// load reads the documents from Jenkins with fetch.
func (is *issuer) load(ctx context.Context, fetch func(context.Context) (*trust.Documents, error)) (*trust.Documents, error) {
	var docs *trust.Documents
	is.srv.Fetch = func(ctx context.Context) (*trust.Documents, error) {
		d, err := fetch(ctx)
		docs = d
		return d, err
	}
	if err := is.srv.Load(ctx); err != nil {
		return nil, err
	}
	return docs, nil
}

func (is *issuer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return is.hs.Shutdown(ctx)
}

// get fetches url and returns its body, failing on anything but 200.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}
