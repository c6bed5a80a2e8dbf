package main

import "testing"

// TestRun runs the example end to end against a real store in a temp dir.
func TestRun(t *testing.T) {
	if err := run(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
