package jenkins

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jenkinsurl"
)

// descriptorPath is where the oidc-provider plugin serves documents for
// credentials with a custom issuer.
const descriptorPath = "descriptorByName/io.jenkins.plugins.oidc_provider.IdTokenStringCredentials/"

// DefaultIssuer is the issuer the plugin uses for credentials without a
// custom issuer in folder's store ("" = system store), with this client's
// root URL: <root>oidc or <root>oidc/job/<a>/job/<b>.
// Segments are encoded like Jenkins' Util.rawEncode, as the plugin does,
// so the string equals the tokens' iss claim.
func (c *Client) DefaultIssuer(folder string) (string, error) {
	if strings.Trim(folder, "/") != "" {
		if _, err := splitName(folder); err != nil {
			return "", err
		}
	}
	return jenkinsurl.Issuer(c.base.String(), folder), nil
}

// Discovery fetches the OpenID configuration and JWKS documents for the
// credential's issuer and returns them as served. issuerURL "" means the
// plugin's own issuer, served without authentication at
// <issuer>/.well-known/openid-configuration and <issuer>/jwks. Any other
// issuerURL is the credential's issuer field, whose documents
// come from the credential descriptor ([job/<folder>/]descriptorByName/…
// wellKnownOpenidConfiguration?issuer= and jwks?id=&issuer=; the JWKS
// needs Overall/Manage, or Item/Read on the folder). That holds even for
// an issuer field equal to DefaultIssuer(folder): the plugin's /oidc
// documents skip every credential with its issuer set (Keys.doDynamic).
func (c *Client) Discovery(ctx context.Context, issuerURL, credentialID, folder string) (config, jwks []byte, err error) {
	def, err := c.DefaultIssuer(folder)
	if err != nil {
		return nil, nil, err
	}
	get := func(path string, q url.Values) ([]byte, error) {
		r, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, accept: "application/json"})
		if err != nil {
			return nil, err
		}
		return r.body, nil
	}
	if issuerURL == "" {
		p, _ := itemPath(folder)
		issuer := "oidc" + strings.TrimSuffix("/"+p, "/")
		if config, err = get(issuer+"/.well-known/openid-configuration", nil); err != nil {
			return nil, nil, fmt.Errorf("discovery for issuer %s (Jenkins serves it only while a credential without a custom issuer exists in that store): %w", def, err)
		}
		if jwks, err = get(issuer+"/jwks", nil); err != nil {
			return nil, nil, fmt.Errorf("JWKS for issuer %s: %w", def, err)
		}
		return config, jwks, nil
	}
	p, err := itemPath(folder)
	if err != nil {
		return nil, nil, err
	}
	if config, err = get(p+descriptorPath+"wellKnownOpenidConfiguration", url.Values{"issuer": {issuerURL}}); err != nil {
		return nil, nil, fmt.Errorf("discovery for custom issuer %s: %w", issuerURL, err)
	}
	if jwks, err = get(p+descriptorPath+"jwks", url.Values{"id": {credentialID}, "issuer": {issuerURL}}); err != nil {
		return nil, nil, fmt.Errorf("JWKS for custom issuer %s, credential %q: %w", issuerURL, credentialID, err)
	}
	return config, jwks, nil
}
