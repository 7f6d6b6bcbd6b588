package pkgconfig

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Cargo index kinds (Settings.CargoIndex).
const (
	CargoSparse = "sparse"
	CargoGit    = "git"
)

// cargo adds a registry "cloudsmith" through Cargo's environment
// variables, so the user's CARGO_HOME (its config, credentials and cache)
// stays as it is, and keeps the token in files:
//
//   - sparse index (Cargo 1.74+): CARGO_REGISTRIES_CLOUDSMITH_INDEX is
//     sparse+{cargo}/{org}/{repo}/ and the registry's credential provider
//     is cargo:token-from-stdout reading "Token <token>" from a file, for
//     installs (the index says auth-required) and `cargo publish`;
//   - git index (older Cargo, e.g. Debian bookworm's 0.66, which has no
//     stable sparse registries): the index is Cloudsmith's
//     {dl}/basic/{org}/{repo}/cargo/index.git, fetched by the git CLI
//     (CARGO_NET_GIT_FETCH_WITH_CLI) with the token from a credential store
//     file configured for that host only through GIT_CONFIG_COUNT (after
//     any the user has). Cargo before 1.74 takes a publish token only from
//     CARGO_HOME or CARGO_REGISTRIES_CLOUDSMITH_TOKEN: exec's child gets
//     the latter; elsewhere, export it from $CLOUDSMITH_CARGO_TOKEN_FILE.
//
// Settings.CargoIndex chooses; empty asks `cargo -V`.
func (p *plan) cargo() error {
	kind := p.s.CargoIndex
	if kind == "" {
		kind = detectCargoIndex(p.getenv)
	}
	tokFile := p.file("cargo/token", []byte("Token "+p.tok+"\n"))
	p.set("CLOUDSMITH_CARGO_TOKEN_FILE", tokFile)
	reg := "CARGO_REGISTRIES_" + strings.ToUpper(RegistryName)
	if strings.ContainsAny(tokFile, " \t\n'\"\\") {
		// Cargo splits the provider's command line on whitespace: with
		// such a path, the token comes from the variable (exec sets it).
		p.set(reg+"_CREDENTIAL_PROVIDER", "cargo:token")
	} else {
		p.set(reg+"_CREDENTIAL_PROVIDER", "cargo:token-from-stdout cat "+tokFile)
	}
	// Cargo before 1.74 takes a token only from CARGO_HOME or this.
	p.setExec(reg+"_TOKEN", "Token "+p.tok)
	switch kind {
	case CargoSparse:
		e, err := p.endpoint(CargoURL)
		if err != nil {
			return err
		}
		p.set(reg+"_INDEX", "sparse+"+e.join(p.s.Org, p.s.Repo))
		return nil
	case CargoGit:
	default:
		return fmt.Errorf("cargo index %q: use %s or %s", kind, CargoSparse, CargoGit)
	}
	dl, err := p.endpoint(DownloadURL)
	if err != nil {
		return err
	}
	p.set(reg+"_INDEX", strings.TrimSuffix(dl.join("basic", p.s.Org, p.s.Repo, "cargo", "index.git"), "/"))
	p.set("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
	origin := dl.u.Scheme + "://" + dl.u.Host
	store := p.file("cargo/git-credentials", []byte(dl.u.Scheme+"://"+url.UserPassword(Username, p.tok).String()+"@"+dl.u.Host+"\n"))
	// An empty helper first resets the helpers the user has for this host,
	// so theirs (say, an older key in ~/.git-credentials) do not win.
	n, _ := strconv.Atoi(strings.TrimSpace(p.getenv("GIT_CONFIG_COUNT")))
	for i, v := range []string{"", "store --file=" + shQuote(store)} {
		p.set(fmt.Sprintf("GIT_CONFIG_KEY_%d", n+i), "credential."+origin+".helper")
		p.set(fmt.Sprintf("GIT_CONFIG_VALUE_%d", n+i), v)
	}
	p.set("GIT_CONFIG_COUNT", strconv.Itoa(n+2))
	return nil
}

var cargoMinorRE = regexp.MustCompile(`^cargo 1\.(\d+)\.`)

// detectCargoIndex picks the sparse index for the cargo on PATH when it is
// 1.74 or later (or there is none yet), else the git index.
func detectCargoIndex(getenv func(string) string) string {
	path, err := exec.LookPath("cargo")
	if err != nil {
		return CargoSparse
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-V")
	if p := getenv("PATH"); p != "" {
		cmd.Env = append(cmd.Environ(), "PATH="+p)
	}
	out, err := cmd.Output()
	m := cargoMinorRE.FindSubmatch(out)
	if err != nil || m == nil {
		return CargoSparse
	}
	if minor, _ := strconv.Atoi(string(m[1])); minor < 74 {
		return CargoGit
	}
	return CargoSparse
}
