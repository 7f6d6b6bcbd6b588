package apply

import (
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// Targets are the systems a spec manages, with clients ready to use.
type Targets struct {
	Jenkins *jenkins.Client
	// Cloudsmith is nil unless the spec sets cloudsmith.api_key.
	Cloudsmith Cloudsmith
}

// TargetsOf takes apply's clients from c: Jenkins, and Cloudsmith's
// management API when the spec has an API key. It makes no request.
func TargetsOf(c *connect.Clients) (*Targets, error) {
	jc, err := c.Jenkins()
	if err != nil {
		return nil, err
	}
	t := &Targets{Jenkins: jc}
	if c.HasAPIKey() {
		cc, err := c.Cloudsmith()
		if err != nil {
			return nil, err
		}
		t.Cloudsmith = CloudsmithClient{C: cc}
	}
	return t, nil
}
