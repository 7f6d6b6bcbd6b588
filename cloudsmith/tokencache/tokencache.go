// Package tokencache lets several steps of one build share one exchanged
// Cloudsmith token instead of each calling POST /openid/{org}/.
//
// An entry is keyed by the API URL, org, service and a SHA-256 of the OIDC
// token it was exchanged for, so it is only ever reused by a caller that
// holds that same OIDC token: Jenkins mints a fresh ID token each time a
// credential is bound, so in practice entries are shared by the steps
// inside one withCredentials block (or one build that binds once), and a
// new binding exchanges again. Entries are 0600 files in a 0700 directory,
// written atomically; anything unexpected (foreign owner, loose
// permissions, a symlink, corrupt JSON, another key) is ignored rather
// than trusted.
package tokencache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/securefile"
)

// RefreshMargin is how long before expiry an entry stops being served, as
// Cloudsmith's CLI does (EXPIRY_MARGIN_SECONDS = 60), so a step never
// starts with a token about to expire.
const RefreshMargin = 60 * time.Second

// maxEntry bounds how much of a cache file is read.
const maxEntry = 64 << 10

// Cache is a directory of token entries.
type Cache struct {
	dir string
	now func() time.Time
}

// Entry is one cached token.
type Entry struct {
	Token  string
	Expiry time.Time
}

type fileEntry struct {
	Key       string    `json:"key"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Open returns the cache in dir, creating it 0700. A directory that is a
// symlink, belongs to someone else or is open to other users is refused:
// another user could then read or plant tokens.
func Open(dir string, now func() time.Time) (*Cache, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, securefile.DirMode); err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	if err := securefile.CheckPrivateDir(dir, false); err != nil {
		return nil, fmt.Errorf("token cache refused: %w", err)
	}
	return &Cache{dir: dir, now: now}, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Key derives the entry key. The OIDC token is hashed first so the key
// (and the file name) says nothing about it.
func Key(apiURL, org, service, oidcToken string) string {
	inner := sha256.Sum256([]byte(oidcToken))
	h := sha256.New()
	for _, part := range []string{strings.TrimSuffix(apiURL, "/"), org, service, hex.EncodeToString(inner[:])} {
		// Length-prefixed, so ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key+".json") }

// Get returns a live entry for key: one that expires more than
// RefreshMargin from now. ok is false for a miss, and for any entry that
// can't be trusted.
func (c *Cache) Get(key string) (Entry, bool) {
	p := c.path(key)
	if _, err := securefile.CheckPrivateFile(p); err != nil {
		return Entry{}, false
	}
	f, err := os.Open(p)
	if err != nil {
		return Entry{}, false
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxEntry+1))
	if err != nil || len(raw) > maxEntry {
		return Entry{}, false
	}
	var fe fileEntry
	if err := json.Unmarshal(raw, &fe); err != nil || fe.Key != key || fe.Token == "" {
		return Entry{}, false
	}
	if !c.now().Add(RefreshMargin).Before(fe.ExpiresAt) {
		return Entry{}, false
	}
	return Entry{Token: fe.Token, Expiry: fe.ExpiresAt}, true
}

// Put stores e under key, atomically and 0600, and removes expired
// entries while it is there so tokens don't pile up on an agent.
func (c *Cache) Put(key string, e Entry) error {
	raw, err := json.Marshal(fileEntry{Key: key, Token: e.Token, ExpiresAt: e.Expiry.UTC()})
	if err != nil {
		return err
	}
	if err := securefile.WriteFile(c.path(key), raw); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	c.prune()
	return nil
}

// Delete forgets key (for example after Cloudsmith rejected the token).
func (c *Cache) Delete(key string) error {
	err := os.Remove(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// prune removes entries whose token has expired. Errors are ignored: the
// cache works without it.
func (c *Cache) prune() {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	now := c.now()
	for _, de := range ents {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasSuffix(name, ".json") {
			continue
		}
		p := filepath.Join(c.dir, name)
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var fe fileEntry
		if json.Unmarshal(raw, &fe) == nil && !fe.ExpiresAt.IsZero() && now.After(fe.ExpiresAt) {
			_ = os.Remove(p)
		}
	}
}
