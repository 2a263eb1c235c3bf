package logfile

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// Defaults of Open: 1 MiB per file, 3 older generations, so at most 4 MiB.
const (
	DefaultMaxSize     = 1 << 20
	DefaultGenerations = 3
)

// File is an io.Writer appending to a rotated log file. It is safe for
// concurrent use; each Write lands whole in one file.
type File struct {
	path        string
	maxSize     int64
	generations int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (appending) or creates the log file at path. maxSize and
// generations default when not positive.
func Open(path string, maxSize int64, generations int) (*File, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if generations <= 0 {
		generations = DefaultGenerations
	}
	l := &File{path: path, maxSize: maxSize, generations: generations}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// limit. A single write larger than the limit still goes in whole.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, errors.New("log file closed")
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate shifts path.N-1 to path.N down to path to path.1, dropping the
// oldest, and opens a fresh file.
func (l *File) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("rotate log file: %w", err)
	}
	l.f = nil
	_ = os.Remove(l.name(l.generations))
	for i := l.generations - 1; i >= 1; i-- {
		if err := os.Rename(l.name(i), l.name(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate log file: %w", err)
		}
	}
	// Windows cannot rename a file another process holds open without
	// share-delete; reopening the old file then keeps logging working.
	if err := os.Rename(l.path, l.name(1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		if oerr := l.open(); oerr != nil {
			return errors.Join(err, oerr)
		}
		return fmt.Errorf("rotate log file: %w", err)
	}
	return l.open()
}

func (l *File) name(gen int) string { return fmt.Sprintf("%s.%d", l.path, gen) }

// Close closes the current file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
