package main

import (
	"context"
	"errors"
	"io"
)

// runShell is the terminal chat mode (being written).
func runShell(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("shell: not written yet")
}
