//go:build !linux && !windows && !darwin

package watch

import (
	"context"
	"errors"
)

// notify has no implementation on this OS; the interface poll in
// Network.Run covers it, every DefaultNetworkEvery.
func notify(context.Context, chan<- struct{}) (func(), error) {
	return nil, errors.ErrUnsupported
}
