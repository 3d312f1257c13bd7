package seed

import (
	"math/rand"
	"strings"
	"testing"
)

func TestMustRand(t *testing.T) {
	MustRand(rand.New(rand.NewSource(1)), "test: F") // a generator passes
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "test: F needs a seeded *rand.Rand") || !strings.Contains(msg, "rand.New(rand.NewSource(1))") {
			t.Fatalf("MustRand(nil) panicked with %q, want the call's name and what to pass", msg)
		}
	}()
	MustRand(nil, "test: F")
	t.Fatal("MustRand(nil) did not panic")
}
