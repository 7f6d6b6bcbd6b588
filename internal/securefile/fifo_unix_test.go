//go:build unix

package securefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteOutputFIFOInPlace(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := WriteOutput(fifo, []byte("tok\n")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "tok\n" {
		t.Errorf("reader got %q", s)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Error("the FIFO was replaced")
	}
}
