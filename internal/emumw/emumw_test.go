package emumw

import (
	"context"
	"testing"
	"time"
)

// TestFaultsReplay: the same seed draws the same faults, at about the
// rate asked, and a zero rate never faults.
func TestFaultsReplay(t *testing.T) {
	kinds := []string{"503", "reset"}
	a, b := NewFaults(0.5, 42), NewFaults(0.5, 42)
	n := 0
	for range 200 {
		ka, la := a.DrawLate(kinds, 0.5)
		kb, lb := b.DrawLate(kinds, 0.5)
		if ka != kb || la != lb {
			t.Fatal("same seed, different faults")
		}
		if ka != "" {
			n++
		}
	}
	if n < 60 || n > 140 {
		t.Errorf("%d faults in 200 draws at rate 0.5", n)
	}
	var none *Faults
	if k := none.Draw(kinds); k != "" || NewFaults(0, 1).Draw(kinds) != "" {
		t.Error("a nil or zero-rate generator faulted")
	}
}

func TestLogAndDelay(t *testing.T) {
	type entry struct{ Status int }
	var l Log[entry]
	e := l.Add(&entry{})
	l.Update(e, func(e *entry) { e.Status = 201 })
	if got := l.All(); len(got) != 1 || got[0].Status != 201 {
		t.Errorf("log = %+v", got)
	}
	l.Reset()
	if len(l.All()) != 0 {
		t.Error("Reset kept entries")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Delay(ctx, time.Hour) {
		t.Error("Delay waited for a client that went away")
	}
	if !Delay(context.Background(), time.Millisecond) {
		t.Error("Delay gave up")
	}
}
