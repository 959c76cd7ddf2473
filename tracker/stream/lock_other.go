//go:build !unix

package stream

import "os"

// lockDir is a no-op where flock is not available.
func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) {}

func syncDir(string) {}
