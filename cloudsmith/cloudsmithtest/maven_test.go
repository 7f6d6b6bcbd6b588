package cloudsmithtest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// debianMavenRepo is where Debian's libmaven-*-plugin-java packages put
// the plugins (a Maven 2 layout). Maven Central is unreachable in CI, so
// the test's own settings mirror central there.
const debianMavenRepo = "/usr/share/maven-repo"

// mavenSettings is a user settings.xml as an agent might have it (a mirror
// of central) plus the Cloudsmith server and repository.
func mavenSettings(s started) string {
	return `<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file://` + debianMavenRepo + `</url></mirror></mirrors>
  <servers><server><id>cloudsmith</id><username>token</username><password>` + s.token + `</password>
    <configuration><httpConfiguration><all><usePreemptive>true</usePreemptive></all></httpConfiguration></configuration>
  </server></servers>
  <profiles><profile><id>cloudsmith</id><repositories><repository><id>cloudsmith</id><url>` + s.MavenURL() + `</url><releases><checksumPolicy>fail</checksumPolicy></releases></repository></repositories></profile></profiles>
  <activeProfiles><activeProfile>cloudsmith</activeProfile></activeProfiles>
</settings>
`
}

// mavenQuickJVM makes the JVM start faster (no optimising compiler):
// every mvn run of a test is short.
const mavenQuickJVM = "-XX:TieredStopAtLevel=1 -Xshare:auto"

func needMaven(t *testing.T) string {
	t.Helper()
	mvn := needTool(t, "mvn", "--version")
	for _, p := range []string{"maven-dependency-plugin/3.5.0", "maven-deploy-plugin/3.0.0"} {
		if _, err := os.Stat(filepath.Join(debianMavenRepo, "org/apache/maven/plugins", p)); err != nil {
			needTool(t, "/nonexistent/"+p+" (apt-get install libmaven-dependency-plugin-java libmaven-deploy-plugin-java)")
		}
	}
	return mvn
}

func mvnRun(t *testing.T, s started, dir, mvn string, args ...string) string {
	t.Helper()
	settings := filepath.Join(dir, "settings.xml")
	if err := os.WriteFile(settings, []byte(mavenSettings(s)), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"-B", "--no-transfer-progress", "-s", settings, "-Dmaven.repo.local=" + filepath.Join(dir, "m2")}
	out := run(t, dir, []string{"MAVEN_OPTS=" + mavenQuickJVM, "JAVA_HOME=" + os.Getenv("JAVA_HOME")}, mvn, append(base, args...)...)
	if strings.Contains(out, s.token) {
		t.Error("maven printed the token")
	}
	return out
}

// TestMavenDeployRoundTrip resolves the demo artifact with Debian's Maven
// 3.8 and maven-dependency-plugin from the download host (checksums
// verified: checksumPolicy fail), deploys a jar with Debian's
// maven-deploy-plugin to the Maven upload host, then resolves that from
// the download host: the emulator serves what was uploaded. The upload is
// sent once, with credentials (preemptive Basic).
func TestMavenDeployRoundTrip(t *testing.T) {
	t.Parallel()
	mvn := needMaven(t)
	s := startWithToken(t)
	dir := t.TempDir()
	mvnRun(t, s, dir, mvn, "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
		"-Dtransitive=false", "-Dartifact="+DemoMavenGroup+":"+DemoMavenArtifact+":"+DemoMavenVersion)
	if _, err := os.Stat(filepath.Join(dir, "m2", "com/example/hello-cloudsmith/1.0.0/hello-cloudsmith-1.0.0.jar")); err != nil {
		t.Fatal(err)
	}
	jar := filepath.Join(dir, "published.jar")
	if err := os.WriteFile(jar, []byte("PK\x05\x06"+strings.Repeat("\x00", 18)), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Cloudsmith.ResetRequests()
	mvnRun(t, s, dir, mvn, "org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file",
		"-Dfile="+jar, "-DgroupId=com.example", "-DartifactId=published", "-Dversion=2.0.0", "-Dpackaging=jar",
		"-DrepositoryId=cloudsmith", "-Durl="+s.MavenUploadURL())
	puts := 0
	for _, r := range s.Cloudsmith.Requests() {
		if r.Method == http.MethodPut {
			puts++
			if r.Status == http.StatusUnauthorized {
				t.Errorf("upload sent without credentials first: %s %s", r.Method, r.Path)
			}
		}
	}
	if puts == 0 {
		t.Fatal("no upload reached the Maven host")
	}
	mvnRun(t, s, dir, mvn, "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
		"-Dtransitive=false", "-Dartifact=com.example:published:2.0.0", "-Dmaven.repo.local="+filepath.Join(dir, "m2-fresh"))
	var found bool
	for _, p := range s.Cloudsmith.Packages("acme", "demo") {
		found = found || p.Format == "maven" && p.Name == "com.example:published" && p.Version == "2.0.0"
	}
	if !found {
		t.Error("the deployed version is not in the repository")
	}
}

// TestMavenPath pins the repository layout's paths, SNAPSHOT ones
// included (timestamped files, the version's own maven-metadata.xml).
func TestMavenPath(t *testing.T) {
	for _, c := range []struct {
		path, want string
		ok         bool
	}{
		{"com/example/a/1.0/a-1.0.jar", "com.example a 1.0 a-1.0.jar", true},
		{"com/example/a/maven-metadata.xml", "com.example a  maven-metadata.xml", true},
		{"com/example/a/1.0-SNAPSHOT/maven-metadata.xml.sha1", "com.example a 1.0-SNAPSHOT maven-metadata.xml.sha1", true},
		{"com/example/a/1.0-SNAPSHOT/a-1.0-20240101.120000-3.jar", "com.example a 1.0-SNAPSHOT a-1.0-20240101.120000-3.jar", true},
		{"com/example/a/1.0-SNAPSHOT/a-1.0-20240101.120000-3-sources.jar", "com.example a 1.0-SNAPSHOT a-1.0-20240101.120000-3-sources.jar", true},
		{"com/example/a/1.0-SNAPSHOT/a-1.0-SNAPSHOT.pom", "com.example a 1.0-SNAPSHOT a-1.0-SNAPSHOT.pom", true},
		{"com/example/a/1.0-SNAPSHOT/a-1.0-latest.jar", "", false},
		{"com/example/a/1.0/b-1.0.jar", "", false},
		{"com/example/a/../a-1.0.jar", "", false},
	} {
		g, a, v, f, ok := mavenPath(c.path)
		if got := strings.Join([]string{g, a, v, f}, " "); ok != c.ok || ok && got != c.want {
			t.Errorf("mavenPath(%q) = %q %v, want %q %v", c.path, got, ok, c.want, c.ok)
		}
	}
}
