//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an flock on the file at path, creating it; with wait it
// blocks until the lock is free, without it a held lock is errHeld. The
// lock ends when the returned file is closed (or the process dies: the
// kernel releases it, so a killed process never leaves a stale lock).
func lockFile(path string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errHeld
		}
		return nil, err
	}
	return f, nil
}
