// Package cloudsmithtest is an in-memory, importable Cloudsmith emulator in
// the spirit of go-containerregistry's pkg/registry: tests and the demo
// start it on loopback and talk to it with real clients (our own client,
// pip, npm, go).
//
// It emulates what the project depends on, as faithfully as the public
// facts allow:
//
//   - the OIDC exchange POST /openid/{org}/, verifying the incoming token for
//     real: exact issuer match against an enabled provider, discovery and
//     JWKS fetched over HTTP (plain http only on loopback), RS256 signature
//     and kid, exp/iat/nbf with a small leeway, required claims (exact or
//     trailing ".*"; a string requirement never matches an array claim
//     such as a current plugin's aud unless WithClaimArrayElementMatch),
//     service linked to the provider. Every failure is the same generic 401, while
//     the real reason is kept in the request log and LastExchangeFailure;
//   - the management API (X-Api-Key, "Authorization: Token|Bearer") for
//     service accounts (/orgs/{org}/services/) and OIDC provider settings
//     (/orgs/{org}/openid-connect/), with the shapes, status codes and DRF
//     error bodies of Cloudsmith's OpenAPI description (also under /v1/);
//   - repository privileges (GET/PATCH/PUT /repos/{org}/{repo}/privileges):
//     a service account holds none until granted, and every package host
//     checks Read (Write for uploads) for it and its exchanged tokens;
//   - package hosts that accept only a token from the exchange, a service
//     key or the API key, sent as Cloudsmith documents it (Basic with the
//     user "token" or the owner's slug, X-Api-Key, Bearer only where the
//     client sends it: npm; WithLenientPackageAuth takes any user and
//     Bearer everywhere), and challenge with WWW-Authenticate: Basic
//     otherwise: {dl}/basic/{org}/{repo}/python/simple/ (PEP 503, a wheel
//     built at start-up) with uploads on {python}/{org}/{repo}/ (twine),
//     {dl}/basic/{org}/{repo}/raw/... (hello.txt), Helm's chart repository
//     {dl}/basic/{org}/{repo}/helm/charts/, {npm}/{org}/{repo}/ (packument
//     and tarball with sha512 integrity; npm publish) and {go}/{org}/{repo}/
//     (GOPROXY protocol; the go command sends credentials only over https,
//     see WithTLS);
//   - uploads through the API as `cloudsmith push` sends them (files,
//     pre-signed upload, packages/upload/{raw,helm}/);
//   - Maven ({dl}/basic/{org}/{repo}/maven/, deploys to {maven}/{org}/{repo}/),
//     Cargo (sparse index and publish API on {cargo}/{org}/{repo}/, the git
//     index {dl}/basic/{org}/{repo}/cargo/index.git over git smart HTTP),
//     NuGet v3 ({nuget}/{org}/{repo}/v3/index.json, push to api/v2/package)
//     and a Docker registry ({docker}/v2/{org}/{repo}/{image}) that takes
//     only bearer tokens from its token endpoint, each with a demo
//     package (com.example:hello-cloudsmith:1.0.0, hello-cloudsmith 1.0.0,
//     Hello.Cloudsmith 1.0.0, hello-cloudsmith:1.0.0) and uploads stored
//     and served back;
//   - a format row may adapt how its clients send the credential (prepare:
//     Cargo's bare token, NuGet's X-NuGet-ApiKey) or serve its host itself
//     (handler: the registry's token flow);
//   - fault injection (latency, 503, 429 with Retry-After, connection resets)
//     and a request log, so clients' retry logic can be tested.
//
// Structure, where to add things:
//
//   - a package format: one entry in formatTable (formats.go) naming its
//     download-host path, its own Host (if any, with a route), its serve and
//     upload functions and its error style. Hosts, Start's listeners,
//     WithTLS and the request routing follow from the table;
//   - packages live in a per-repository store (store.go): AddRepo,
//     AddPackage and Packages for tests, repository.add for uploads; the
//     format handlers serve what the store holds, nothing hard-coded;
//   - every package read and upload goes through one gate, authorize
//     (formats.go), which authenticates, finds the repository and checks
//     the repository privilege the request needs;
//   - handlers return *httpError and writeError (httperror.go) writes it,
//     once, in the host's style (Cloudsmith's JSON, npm's, Go's plain text).
//
// Where Cloudsmith's behaviour is undocumented the emulator picks the
// strictest plausible rule and offers an option to relax it.
//
// Behaviour → upstream source. Cloudsmith's server is closed source, so
// the sources are its published OpenAPI description (cloudsmith-io/
// cloudsmith-api-go api/openapi.yaml, "GO-SPEC"), its docs
// (cloudsmith-io/cloudsmith-docs src/content/..., "DOCS") and Django REST
// framework, whose messages its API returns:
//
//	POST /openid/{org}/ at the host root, body            GO-SPEC /openid/{owner}/ (openid_create), OidcRequest;
//	{oidc_token, service_slug}, 201 {"token"}             DOCS authentication/openid-connect.mdx
//	400/401/422 ErrorDetail {detail[, fields]}            GO-SPEC /openid/{owner}/ responses, ErrorDetail
//	one generic 401 for every exchange failure            DOCS openid-connect.mdx ("intentionally quite generic")
//	iss must equal provider_url exactly (option: slash)   DOCS setup-…-github-actions.mdx ("must precisely match")
//	discovery + JWKS fetched from the provider URL        DOCS openid-connect.mdx ("we use this to verify")
//	required claims exact, ".*" only as a suffix; values  DOCS openid-connect.mdx (Claims); JSON comparison
//	compared as JSON (the string "1" is not the number 1) is the strictest plausible reading (undocumented)
//	service_accounts vs mapping_claim/dynamic_mappings    GO-SPEC ProviderSettings*, DynamicMapping
//	returned token is a JWT with exp (90 min default: the DOCS openid-connect.mdx ("around 90 minutes", and
//	shorter of the docs' two figures; WithTokenLifetime)   "2 hours"); cloudsmith-cli oidc/cache.py
//	/orgs/{org}/openid-connect/ POST 201, PUT/PATCH 200,  GO-SPEC orgs_openid-connect_*
//	DELETE 204, dynamic-mappings read-only
//	a provider's slug is its name slugified; a second      GO-SPEC ProviderSettings.slug (read-only, format
//	provider of the same slug (e.g. "jenkins" next to      slug); uniqueness is the emulator's strictest
//	"Jenkins") is 422 on name                              plausible reading (Django slug fields are unique)
//	/orgs/{org}/services/ POST 200 with key, refresh/     GO-SPEC orgs_services_*; DOCS accounts-and-teams/service-accounts.mdx
//	401 "Invalid token." / "Authentication credentials    DOCS api/error-handling.mdx, api/index.mdx;
//	were not provided.", 403, 404 "Not found.", 405,      DRF rest_framework/exceptions.py, parsers.py
//	415, 400 "JSON parse error - …", 422 fields
//	a JSON body needs Content-Type application/json: none  DRF rest_framework/request.py Request._parse
//	is 415 "Unsupported media type \"\" in request."; an  (parser chosen by content_type; no stream → {})
//	empty body is {} whatever the type
//	429 "Request was throttled. Expected available in     DRF rest_framework/exceptions.py (Throttled, ngettext)
//	N second(s)." + Retry-After, 503
//	X-Api-Key, Basic, "Authorization: Token|Bearer"       GO-SPEC securitySchemes; DOCS api/index.mdx; cloudsmith-cli
//	package hosts: user "token" + key/JWT, /basic/ paths  DOCS formats/*.mdx; cloudsmith-cli credential_helpers
//	Basic user must be "token" or the credential's owner   DOCS formats/*.mdx (USERNAME:API-KEY or token:TOKEN);
//	slug; Bearer only on npm (_authToken), Token on Cargo; cloudsmith-cli CHANGELOG 1.21.0 ("token" for every
//	X-Api-Key everywhere; else 401 + Basic challenge       host); DOCS go-registry.mdx ("only supports
//	(WithLenientPackageAuth: any user, Bearer anywhere)    authentication via HTTP Basic"); openid-connect.mdx
//	Python uploads: POST {python}/{org}/{repo}/ multipart  DOCS formats/python-repository.mdx (twine, .pypirc,
//	":action"=file_upload (name, version, content,         uv publish-url); pypa/twine twine/repository.py
//	sha256_digest, md5_digest checked), 200; file not of   (legacy upload form), warehouse legacy API; the 409
//	the project/version 400; existing file 409; reads 405  for an existing file is a guess twine's
//	                                                       --skip-existing understands
//	  400 also for protocol_version ≠ 1, no digest at all,  pypi/warehouse warehouse/forklift/legacy.py
//	  no metadata_version, filetype not sdist|bdist_wheel   (file_upload: protocol version, "Include at least
//	  or contradicted by the extension                      one message digest.", filetype, extension checks)
//	npm publish: PUT {npm}/{org}/{repo}/{name} with one    DOCS formats/npm-registry.mdx ("npm publish");
//	version + base64 _attachments; shasum, integrity and   npm/cli libnpmpublish publish.js (document shape);
//	tarball package.json checked; 201; existing version    409 for a republished version is a guess (npmjs
//	409; Yarn 1 needs always-auth (401 without creds)      answers 403); DOCS npm-registry.mdx (Yarn, always-auth)
//	  the publish's dist-tags (latest, or --tag's) move to  libnpmpublish publish.js (dist-tags {tag: version});
//	  its version; the packument's dist-tags and /latest    npm registry API (package metadata, dist-tags)
//	  follow them (a --tag beta leaves latest alone)
//	Go proxy paths case-encoded ("!a" for "A" in module     go command docs (GOPROXY protocol, "case-encoded");
//	and version); a raw capital or stray "!" is 400        golang.org/x/mod module/module.go (UnescapePath)
//	Helm: {dl}/basic/{org}/{repo}/helm/charts/index.yaml   DOCS formats/helm-chart-repository.mdx; helm.sh docs
//	(apiVersion v1, entries newest first with digest and   topics/chart_repository (index.yaml), helm pkg/repo
//	absolute URLs on the same host) and charts/*.tgz       (credentials only to the repository's host)
//	raw: files/F, versions/V/F, names/N/files/F,           DOCS formats/raw-repository.mdx (the four URL shapes,
//	names/N/versions/V/F, "latest"; newest upload wins     versions/latest)
//	API uploads: POST /files/{o}/{r}/ {filename,           GO-SPEC files_create (202 PackageFileUpload),
//	md5_checksum[,method post|put]} 202 {identifier,       packages_upload_raw, packages_upload_helm (201;
//	upload_url, upload_fields|upload_headers}; the file    400/422), Raw/HelmPackageUploadRequest; cloudsmith-cli
//	to upload_url (multipart with the fields, or PUT),     core/api/files.py (request_file_upload, upload_file
//	no credential; POST /packages/{o}/{r}/upload/raw|helm/ multipart POST); the upload host's path
//	{package_file[,name,version,republish]} 201; duplicate (/_upload/{id}/ on the API host) and the
//	400 unless republish; Write needed; one use per id     synchronous duplicate 400 are the emulator's choice
//	Maven: dl /basic/{org}/{repo}/maven/ (Maven 2 layout),  DOCS formats/maven-repository.mdx; maven-resolver
//	maven-metadata.xml generated, .sha1/.md5/.sha256/      (checksum files next to each file; Maven Repository
//	.sha512 of every file; deploys PUT on the maven host   Layout, maven.apache.org/repository/layout.html)
//	{maven}/{org}/{repo}/, checksum PUTs checked, pushed
//	maven-metadata.xml dropped (regenerated), existing
//	file 409 (no overwrite); the dl host refuses writes
//	SNAPSHOT versions: timestamped files (a-1.0-yyyyMMdd.   Maven Repository Layout; maven-resolver
//	HHmmss-N[-classifier].ext) and the version's own        (RemoteSnapshotMetadata: deploys the version's
//	maven-metadata.xml, kept as deployed (each deploy       maven-metadata.xml, resolves through it); DOCS
//	replaces it) and served back                            maven-repository.mdx (snapshots supported)
//	Docker: {docker}/v2/ 401 + WWW-Authenticate: Bearer     distribution/distribution docs/spec/auth/token.md,
//	realm="{docker}/v2/token",service=…[,scope=…]           docs/spec/api.md (errors, uploads, manifests);
//	[,error="insufficient_scope"|"invalid_token"]; GET      DOCS formats/docker-registry.mdx (OWNER/REPO/IMAGE,
//	token endpoint with Basic → {token,access_token,        docker login); realm path and 5-minute lifetime are
//	expires_in,issued_at}, pull needs Read, push Write,     the emulator's choice (clients read the challenge)
//	refused actions left out; repository endpoints take
//	only those bearer tokens; images {org}/{repo}/{image};
//	errors {"errors":[{code,message,detail}]}
//	manifest PUT: Content-Type must name a manifest type    distribution manifests.go (UnmarshalManifest by
//	and the body's mediaType match it (400 MANIFEST_        Content-Type), manifest/schema2, ocischema
//	INVALID); tag grammar (TAG_INVALID); lower-case name    (mediaType checks); distribution/reference
//	components on every endpoint (400 NAME_INVALID)         regexp.go; docs/spec/api.md (error codes)
//	manifest GET/HEAD: an OCI manifest or index only when   distribution registry/handlers/manifests.go
//	Accept names its type, else 404 MANIFEST_UNKNOWN        (GetManifest, "accept header does not support OCI")
//	chunked PATCH: Content-Range must start at the upload's distribution registry/handlers/blobupload.go
//	size and match the body, else 416 RANGE_INVALID          (PatchBlobData, ErrorCodeRangeInvalid); api.md
//	Cargo sparse {cargo}/{org}/{repo}/config.json           DOCS formats/cargo-registry.mdx ("sparse+https://
//	{dl:…/basic/{org}/{repo}/cargo/{crate}-{version}.crate, cargo.cloudsmith.io/OWNER/REPO/", token = "Token
//	api:{cargo}/{org}/{repo},auth-required:true}, index     KEY"); dl/api shape: dependabot-core cargo
//	files 1/,2/,3/a/,ab/cd/; "Authorization: KEY" read as   specs (Cloudsmith config.json); rust-lang/cargo
//	"Token KEY"; publish PUT api/v1/crates/new (u32 LE      src/doc/src/reference/registry-index.md,
//	JSON + crate), errors {"errors":[{"detail"}]}, 409      registry-web-api.md
//	for a version that exists
//	Cargo git index /basic/{org}/{repo}/cargo/index.git     DOCS formats/cargo-registry.mdx (legacy git, git
//	(git smart HTTP, Basic via git's credential helpers);   credential store); Cargo < 1.74 sends no credentials
//	its config.json's dl carries a per-repository key       on downloads (rust-lang/cargo#10062) yet private git
//	(/{key}/{org}/{repo}/cargo/…, Cloudsmith's entitlement  indexes worked (EmbarkStudios/cargo-deny#510): how
//	URL form) so those downloads need no header             Cloudsmith authorises them is unpublished (guess)
//	NuGet {nuget}/{org}/{repo}/v3/index.json: flat          DOCS formats/nuget-feed.mdx; NuGet server API docs
//	container, registration, search, PackagePublish at      (learn.microsoft.com/nuget/api: service-index,
//	{org}/{repo}/api/v2/package (PUT multipart, X-NuGet-    package-base-address-resource, registration-base-
//	ApiKey or Basic; 201, 409 for an existing version)      url-resource, package-publish-resource)
//	  versions normalised (x.y → x.y.0, zero 4th part and   learn.microsoft.com/nuget/concepts/package-
//	  +metadata dropped): 2.0 after 2.0.0 is 409; invalid   versioning (normalized version numbers);
//	  version 400; flat container serves the normal form    package-base-address-resource (lowercased, normalized)
//	service reads show the key redacted to its last four    terraform-provider-cloudsmith resource_service.go
//	characters; only create and refresh show it whole      ("only returned ... when the resource is created,
//	(the redaction's form is the emulator's choice)        otherwise it's redacted"; compares the last four)
//	service slugs get random characters appended (default; DOCS accounts-and-teams/service-accounts.mdx ("may have
//	WithPlainServiceSlugs: only when taken), 30 chars     random characters appended"); POC slug jenkins-dvha
//	a service (Member or Manager) has no repository       DOCS repositories/repository-privileges.mdx, workspaces/
//	privilege until granted; the owner's key has all      privileges.mdx (Managers "have no access to artifacts")
//	/repos/{org}/{repo}/privileges (no trailing slash     GO-SPEC repos_privileges_{list,partial_update,update},
//	needed): GET {privileges:[…]} paginated, PATCH adds/  RepositoryPrivilegeDict/Input*; terraform-provider-
//	updates by grantee, PUT replaces all, both 204;       cloudsmith cloudsmith/resource_repository_privileges.go
//	entries: privilege Admin|Write|Read + exactly one of  (PUT, page_size 1000 reads, 5 s sleep after writes)
//	service/team/user; managing them needs Admin
//	a service's teams and a team's privilege name a team  GO-SPEC ServiceTeams.slug, RepositoryPrivilegeDict.team
//	of the org (AddTeam); else 422 "Object with slug=…    (format slug); DRF relations.py SlugRelatedField
//	does not exist."                                       ("Object with {slug_name}={value} does not exist.")
//	authenticated but not privileged: 403 "You do not     DRF rest_framework/views.py permission_denied
//	have permission to perform this action." (JSON, on    (PermissionDenied once authenticated; 401 only
//	every host); Read for reads, Write for uploads        without valid credentials)
//	WithVisibilityDelay: new services, providers and      terraform-provider-cloudsmith resource_service.go /
//	grants unseen by reads and dependents (provider →     resource_oidc.go (waiter polls reads up to a minute
//	422 "Object with slug=… does not exist.")             after create), resource_repository_privileges.go
//	string claim vs token array: no match (default);      undocumented (cloudsmith.md §6); oidc-provider
//	WithClaimArrayElementMatch: any element               a069ffe writes aud as an array (jenkins.md §1.5)
//	switching service_accounts ⇄ mapping_claim needs the  terraform-provider-cloudsmith resource_oidc.go (sends
//	other reset (422 otherwise)                           mapping_claim null + [] / service_accounts [])
package cloudsmithtest
