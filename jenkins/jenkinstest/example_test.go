package jenkinstest_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// Start an emulator, create a job the way a client would, and read the
// stored config back as Jenkins rewrites it.
func Example() {
	s, err := jenkinstest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()

	req, _ := http.NewRequest("POST", s.URL+"createItem?name=hello", strings.NewReader("<project><description>hi</description></project>"))
	req.SetBasicAuth("admin", s.Jenkins.AdminToken())
	req.Header.Set("Content-Type", "application/xml")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode)

	class, ok := s.Jenkins.ItemByFullName("hello")
	fmt.Println(class, ok)
	// Output:
	// 200
	// hudson.model.FreeStyleProject true
}
