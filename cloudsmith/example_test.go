package cloudsmith_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
)

// A build step trades the OIDC token bound by Jenkins for a Cloudsmith
// token, printing the diagnostic (never the token) when Cloudsmith says no.
func ExampleClient_Exchange() {
	c, err := cloudsmith.NewClient(cloudsmith.Options{APIURL: os.Getenv("CLOUDSMITH_API_URL")})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := c.Exchange(context.Background(), os.Getenv("CLOUDSMITH_ORG"), os.Getenv("CLOUDSMITH_SERVICE_SLUG"), os.Getenv("OIDC_TOKEN"))
	switch {
	case errors.Is(err, cloudsmith.ErrUnauthorized):
		// err explains iss/aud/sub/exp against the likely causes.
		log.Fatal(err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(tok) // cloudsmith.Token{**** expires ...}: the value stays hidden
	_ = tok.Value    // hand the value only to where it is needed
}

// apply keeps an org's trust in the wanted state without rewriting what
// already matches.
func ExampleClient_EnsureProvider() {
	c, err := cloudsmith.NewClient(cloudsmith.Options{APIKey: os.Getenv("CLOUDSMITH_API_KEY")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	svc, _, err := c.EnsureService(ctx, "acme", "jenkins")
	if err != nil {
		log.Fatal(err)
	}
	changed, err := c.EnsureProvider(ctx, "acme", cloudsmith.ProviderSettings{
		Name:            "jenkins",
		ProviderURL:     "https://jenkins.example.com/oidc",
		Claims:          map[string]string{"aud": "cloudsmith", "sub": "https://jenkins.example.com/job/app/.*"},
		Enabled:         true,
		ServiceAccounts: []string{svc.Slug},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("changed:", changed)
}
