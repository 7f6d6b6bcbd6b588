package testenv

import (
	"errors"
	"testing"
)

func TestLookPathFindsAndProbes(t *testing.T) {
	if p := LookPath(t, "sh", "-c", "exit 0"); p == "" {
		t.Fatal("sh not found")
	}
	Require(t, nil, "nothing") // a nil error neither skips nor fails
}

func TestRequireSkipsOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	t.Run("missing", func(t *testing.T) {
		Require(t, errors.New("not installed"), "a tool")
		t.Error("Require returned for a missing tool instead of skipping")
	})
}
