// Package errfix names the fix for the errors a command can end with that
// do not name one themselves: the network (nothing listening, a name that
// does not resolve, no answer, a certificate no CA bundle vouches for) and
// the answers of Jenkins and Cloudsmith that mean a setting is wrong (401,
// 403, an unknown org). The command's last line then says what to change,
// whichever workflow failed.
package errfix

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// Fix returns what to do about err, or "" when err names its fix already
// (spec errors do) or is not one Fix knows.
func Fix(err error) string {
	if err == nil || strings.Contains(err.Error(), "fix:") {
		return ""
	}
	var (
		dns     *net.DNSError
		verr    *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		csErr   *cloudsmith.APIError
		jErr    *jenkins.HTTPError
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &unknown):
		return "the server's certificate is not signed by a CA this machine trusts: set jenkins.ca_bundle or cloudsmith.ca_bundle in the spec to the PEM file of the CA that signed it (TLS is never skipped)"
	case errors.As(err, &host):
		return "the server's certificate is for another name: use the host name the certificate names in the spec's URL"
	case errors.As(err, &dns):
		return "the host name " + dns.Name + " does not resolve: check the spelling of jenkins.url / cloudsmith.api_url in the spec, and this machine's DNS"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there: check that the server runs and that the spec's URL for it (jenkins.url, cloudsmith.api_url) and proxy (jenkins.proxy, cloudsmith.proxy) are right"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return "the server did not answer in time: check the network path to it (firewall, VPN, jenkins.proxy / cloudsmith.proxy), then run the command again"
	case errors.As(err, &jErr) && jErr.Status == 401:
		return "Jenkins refused the login: check jenkins.user and the API token in the variable jenkins.token names (User » Security » API Token)"
	case errors.As(err, &jErr) && jErr.Status == 403:
		return "jenkins.user lacks a permission (Jenkins names it above): grant it, or use a user that has it"
	case errors.As(err, &csErr) && csErr.Status == 401:
		return "Cloudsmith refused the API key: check the variable cloudsmith.api_key names (a user's or a service's key, not an OIDC token)"
	case errors.As(err, &csErr) && csErr.Status == 404 && orgPath(csErr.URL):
		return "check cloudsmith.org: the org's slug, as in https://app.cloudsmith.com/ORG, to which cloudsmith.api_key's account belongs (Cloudsmith answers 404 for an org the key cannot see)"
	case errors.As(err, &csErr) && csErr.Status == 403:
		return "cloudsmith.api_key's account lacks the permission: use an org Manager's or Owner's key for the management API"
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// orgPath reports a management API URL under /orgs/{org}/.
func orgPath(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.Contains(u.Path, "/orgs/")
}
