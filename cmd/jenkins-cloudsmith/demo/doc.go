// Package demo implements `jenkins-cloudsmith demo`, the README's first
// command: in one process it starts the Jenkins and Cloudsmith emulators on
// loopback, writes an example spec with a custom OIDC issuer, applies it
// with the same engine as `apply` (Jenkins credential, folder and jobs; the
// Cloudsmith service account and OIDC provider), serves the issuer's
// discovery documents (trust.Server, as `discovery serve`), walks the chain
// of trust (trust.Doctor), and builds the freestyle job (trust.Smoke). The
// build's real shell step runs this very program as cloudsmith-oidc (see
// the multi-call dispatch in package main), which exchanges the build's ID
// token with the Cloudsmith emulator and runs the real pip. Finally it
// checks that no secret appears in the build's console or in anything the
// demo printed. It exits 0 only if every step worked.
package demo
