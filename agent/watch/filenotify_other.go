//go:build !linux

package watch

import (
	"context"
	"errors"
)

// fileNotifier has no implementation on this OS yet: the settings poll
// stats each file it read before reading it again.
type fileNotifier struct{}

func newFileNotifier(context.Context, chan<- struct{}) (*fileNotifier, error) {
	return nil, errors.ErrUnsupported
}

func (*fileNotifier) watch(string) (bool, bool) { return false, false }
func (*fileNotifier) watching(string) bool      { return false }
func (*fileNotifier) close()                    {}
