package cloudsmithtest_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
)

// Start gives every Cloudsmith host its own loopback listener; the package
// hosts accept the API key (or an exchanged token) as a Basic password.
func ExampleStart() {
	srv, err := cloudsmithtest.Start(cloudsmithtest.WithOrg("acme"), cloudsmithtest.WithRepo("demo"))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.RawURL(), nil)
	req.SetBasicAuth("token", srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))

	anon, err := http.Get(srv.RawURL())
	if err != nil {
		panic(err)
	}
	anon.Body.Close()
	fmt.Println(anon.StatusCode, anon.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 Hello from Cloudsmith!
	// 401 Basic realm="Cloudsmith"
}
