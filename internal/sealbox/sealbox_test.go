package sealbox

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln")
	s, err := Seal(k.Public(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, string(secret)) || strings.Contains(s, "eyJ") {
		t.Errorf("the sealed word shows the secret: %s", s)
	}
	got, ok := Find([]byte("+ build\n" + Marker + s + "\nFinished: SUCCESS\n"))
	if !ok || got != s {
		t.Fatalf("Find = %q, %v", got, ok)
	}
	if out, err := k.Open(got); err != nil || string(out) != string(secret) {
		t.Fatalf("Open = %q, %v", out, err)
	}
	other, _ := NewKey()
	if _, err := other.Open(s); err == nil {
		t.Error("another key opened it")
	}
	if _, err := k.Open(s[:len(s)-2] + "AA"); err == nil {
		t.Error("an altered word opened")
	}
	if _, err := Seal("not-a-key", secret); err == nil {
		t.Error("sealed to a bad key")
	}
}
