// Package cloudsmith is a client for Cloudsmith's OIDC token exchange and
// for the parts of its management API that set up OIDC trust: service
// accounts, OIDC provider settings and repository privileges.
//
// # Provisioning rules the service imposes
//
// Cloudsmith assigns a service account's slug (it "may have random
// characters appended"), so FindService matches by name first. A service
// account holds no repository privilege until granted one: GrantPrivileges
// PATCHes /repos/{org}/{repo}/privileges, which adds or changes only the
// entries sent; PUT, which replaces every privilege on the repository, is
// deliberately not offered. A provider names its services either
// statically (service_accounts) or through mapping_claim and
// dynamic_mappings, never both: every provider write sends the other form
// reset (null and [], or []), as Cloudsmith's Terraform provider does, and
// claims read as numbers or booleans are written back with their type.
//
// # The exchange
//
// Exchange sends a CI job's OIDC ID token to POST /openid/{org}/ and gets a
// short-lived Cloudsmith token back. The endpoint lives at the API host's
// root (a trailing /v1 in the configured API URL is stripped, as
// Cloudsmith's Terraform provider does); it needs no API key, and none is
// sent to it.
//
// # Why a 401 says so little, and what this client adds
//
// Cloudsmith answers every trust failure with the same generic 401
// ("OIDC token cannot be authenticated."): a wrong issuer, a required claim
// that doesn't match, a service account not linked to the provider, an
// unknown service slug and an expired token all look alike. This is
// deliberate: telling an anonymous caller which check failed would reveal
// whether an organization has OIDC configured, which service accounts exist
// and which claims it requires. The exchange is unauthenticated, so the
// server can't tell the organization's admin from an attacker probing it.
//
// The caller, though, holds the token it sent. On failure, *ExchangeError
// decodes that token (without verifying it) and prints what Cloudsmith
// compared: iss (which must equal the provider URL exactly), aud and sub
// (the claims most often required), exp and iat (against the local clock),
// and the header's kid (the key Cloudsmith looks up in the issuer's JWKS),
// next to the org, service and API URL, followed by the likely causes in
// order. It never prints the raw token or its signature, and masks anything
// token-like that a server or proxy echoes back.
//
// # Retries
//
// Network errors, 429 (honouring Retry-After) and 5xx are retried with
// exponential backoff and full jitter; other 4xx never are, so a
// misconfigured trust fails in one request. The whole call is bounded by a
// budget (Options.RetryBudget, default 60s) and, for the exchange, by the
// OIDC token's own exp: retrying with an expired token can only fail.
//
// # Transport
//
// Clients are built from internal/httpx layers: a base transport with the
// environment's proxy (or Options.Proxy), an optional CA bundle and
// timeouts, TLS always verified; a per-attempt log that never records
// headers or bodies; retries; and X-Api-Key authentication scoped to the
// API host, so a redirect or link to another host (package storage, say)
// never inherits the key. Redirects to another host, or from https to
// http, are refused outright.
package cloudsmith
