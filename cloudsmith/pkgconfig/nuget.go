package pkgconfig

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// nuget writes a NuGet.Config with the v3 source and its credentials.
// NuGet has no environment variable for a config file: pass
// --configfile "$CLOUDSMITH_NUGET_CONFIG" (restore, and push with
// -s cloudsmith: NuGet sends the source's credentials, which Cloudsmith
// takes as well as an API key). The user's own NuGet.Config files are
// still read; this one only adds the source.
func (p *plan) nuget() error {
	e, err := p.endpoint(NuGetURL)
	if err != nil {
		return err
	}
	src := strings.TrimSuffix(e.join(p.s.Org, p.s.Repo, "v3"), "/") + "/index.json"
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<!-- Written by cloudsmith-oidc: holds a short-lived Cloudsmith token. -->\n<configuration>\n  <packageSources>\n")
	fmt.Fprintf(&b, "    <add key=\"%s\" value=\"%s\" protocolVersion=\"3\" />\n", xmlAttr(RegistryName), xmlAttr(src))
	b.WriteString("  </packageSources>\n  <packageSourceCredentials>\n")
	fmt.Fprintf(&b, "    <%s>\n", RegistryName)
	fmt.Fprintf(&b, "      <add key=\"Username\" value=\"%s\" />\n", xmlAttr(Username))
	fmt.Fprintf(&b, "      <add key=\"ClearTextPassword\" value=\"%s\" />\n", xmlAttr(p.tok))
	fmt.Fprintf(&b, "    </%s>\n  </packageSourceCredentials>\n</configuration>\n", RegistryName)
	p.set("CLOUDSMITH_NUGET_CONFIG", p.file("NuGet.Config", b.Bytes()))
	p.set("CLOUDSMITH_NUGET_SOURCE", src)
	return nil
}
