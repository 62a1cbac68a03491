//go:build !unix

package store

import "os"

// lockFile opens the file at path without locking it: this platform has no
// flock. Concurrent first opens of one store, and a second serve on it,
// are then not prevented.
func lockFile(path string, wait bool) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
