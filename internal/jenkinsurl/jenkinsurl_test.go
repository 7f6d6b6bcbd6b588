package jenkinsurl

import "testing"

func TestRawEncode(t *testing.T) {
	// Expectations from Jenkins' Util.rawEncode: alphanumerics and
	// !$&'()*+,-.=@_ stay; the rest is %XX of the UTF-8 bytes, upper case.
	cases := map[string]string{
		"plain-name_1.0":      "plain-name_1.0",
		"at the top":          "at%20the%20top",
		"!$&'()*+,=@":         "!$&'()*+,=@",
		`"#%/:;<>?[\]^` + "`": "%22%23%25%2F%3A%3B%3C%3E%3F%5B%5C%5D%5E%60",
		"{|}~":                "%7B%7C%7D%7E",
		"é日":                  "%C3%A9%E6%97%A5",
		"😀":                   "%F0%9F%98%80",
	}
	for in, want := range cases {
		if got := RawEncode(in); got != want {
			t.Errorf("RawEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJobAndIssuer(t *testing.T) {
	if got := Job("https://j.example.com/ci", "a b/c"); got != "https://j.example.com/ci/job/a%20b/job/c/" {
		t.Errorf("Job = %q", got)
	}
	for _, c := range []struct{ root, folder, want string }{
		{"https://j.example.com/", "", "https://j.example.com/oidc"},
		{"https://j.example.com", "team a/x", "https://j.example.com/oidc/job/team%20a/job/x"},
	} {
		if got := Issuer(c.root, c.folder); got != c.want {
			t.Errorf("Issuer(%q, %q) = %q, want %q", c.root, c.folder, got, c.want)
		}
	}
}
