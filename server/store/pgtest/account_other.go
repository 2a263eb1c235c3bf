//go:build !unix

package pgtest

import (
	"errors"
	"os/exec"
)

type account struct{}

func serverAccount() (account, error) {
	return account{}, errors.New("the PostgreSQL test server runs on Unix only")
}

func (account) chown(string) error { return nil }

func (account) apply(*exec.Cmd) {}
