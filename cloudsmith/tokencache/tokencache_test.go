package tokencache

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestKeySeparatesInputs(t *testing.T) {
	base := Key("https://api.cloudsmith.io", "acme", "ci", "tok")
	for _, k := range []string{
		Key("https://api.cloudsmith.io/", "acme", "ci", "tok"), // same API, trailing slash
	} {
		if k != base {
			t.Error("a trailing slash changed the key")
		}
	}
	for _, k := range []string{
		Key("https://other", "acme", "ci", "tok"),
		Key("https://api.cloudsmith.io", "acm", "eci", "tok"),
		Key("https://api.cloudsmith.io", "acme", "ci", "tok2"),
	} {
		if k == base {
			t.Error("different inputs share a key")
		}
	}
}

func TestGetPut(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c, err := Open(filepath.Join(t.TempDir(), "c"), clock)
	if err != nil {
		t.Fatal(err)
	}
	k := Key("u", "o", "s", "t")
	if _, ok := c.Get(k); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(k, Entry{Token: "T", Expiry: now.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Get(k); !ok || e.Token != "T" {
		t.Fatalf("miss after put: %v %v", e, ok)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(filepath.Join(c.Dir(), k+".json"))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("entry mode %04o", fi.Mode().Perm())
		}
	}
	// Within the refresh margin of expiry the entry is stale.
	now = now.Add(2*time.Hour - RefreshMargin)
	if _, ok := c.Get(k); ok {
		t.Error("served a token that expires within the refresh margin")
	}
	// An entry stored under another name (renamed, planted) is ignored.
	other := Key("u", "o", "s", "other")
	now = now.Add(-time.Hour)
	raw, _ := os.ReadFile(filepath.Join(c.Dir(), k+".json"))
	_ = os.WriteFile(filepath.Join(c.Dir(), other+".json"), raw, 0o600)
	if _, ok := c.Get(other); ok {
		t.Error("served an entry whose key does not match its name")
	}
	// Expired entries are pruned on the next Put.
	now = now.Add(3 * time.Hour)
	if err := c.Put(Key("a", "b", "c", "d"), Entry{Token: "U", Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), k+".json")); !os.IsNotExist(err) {
		t.Error("expired entry not pruned")
	}
	if err := c.Delete(Key("a", "b", "c", "d")); err != nil {
		t.Error(err)
	}
}

func TestUntrustedEntriesAndDirs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "c")
	c, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := Key("u", "o", "s", "t")
	if err := c.Put(k, Entry{Token: "T", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, k+".json")
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(k); ok {
		t.Error("served a world-readable entry")
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil); err == nil {
		t.Error("opened a world-writable cache dir")
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err == nil {
		if _, err := Open(link, nil); err == nil {
			t.Error("opened a symlinked cache dir")
		}
	}
}
