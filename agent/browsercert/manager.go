package browsercert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"

	"github.com/postern-dev/postern/agent/internal/atomicfile"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// PlacedFile, in the state directory, lists the users who got the
// certificate, so that it is removed from their stores on uninstall or
// revocation even after they signed out.
const PlacedFile = "browsercert.json"

// Manager keeps the device certificate in the console user's store and
// the browsers' policies in step with the agent's identity.
type Manager struct {
	Store    Store
	Policies Policies
	// ConsoleUser finds the user whose store gets the certificate.
	ConsoleUser func(ctx context.Context) (consoleuser.User, error)
	// StateDir holds PlacedFile.
	StateDir string
}

// placed is PlacedFile's content.
type placed struct {
	DeviceID string             `json:"device_id"`
	Users    []consoleuser.User `json:"users"`
}

// Sync places the identity in the console user's store and writes the
// browsers' policies for its gateway. With nobody at the console it
// changes nothing and returns an error matching
// consoleuser.ErrNoConsoleUser: the next Sync (at start, after a renewal)
// places it.
func (m *Manager) Sync(ctx context.Context, id Identity) error {
	u, err := m.ConsoleUser(ctx)
	if err != nil {
		return fmt.Errorf("place the device certificate: %w", err)
	}
	if err := m.Store.Place(ctx, u, id); err != nil {
		return fmt.Errorf("place the device certificate for %s: %w", u.Name, err)
	}
	if err := m.remember(id.DeviceID, u); err != nil {
		return err
	}
	if m.Policies == nil {
		return nil
	}
	if id.GatewayURL == "" {
		// No gateway (any more): no policy may name one.
		if err := m.Policies.Remove(ctx); err != nil {
			return fmt.Errorf("remove the browsers' certificate policy: %w", err)
		}
		return nil
	}
	if err := m.Policies.Write(ctx, id.GatewayURL, id.Cert.Issuer.CommonName); err != nil {
		return fmt.Errorf("write the browsers' certificate policy: %w", err)
	}
	return nil
}

// Clear removes the device's certificate from every store it was placed
// in and the browsers' policies.
//
// It does nothing when PlacedFile is absent: this agent placed nothing
// (or cleared it already).
func (m *Manager) Clear(ctx context.Context, deviceID string) error {
	if _, err := os.Stat(m.path()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	p, err := m.load()
	if err != nil {
		return err
	}
	users := p.Users
	if u, err := m.ConsoleUser(ctx); err == nil && !slices.ContainsFunc(users, func(x consoleuser.User) bool { return x.ID == u.ID }) {
		users = append(users, u)
	}
	var errs []error
	for _, u := range users {
		if err := m.Store.Remove(ctx, u, deviceID); err != nil {
			errs = append(errs, fmt.Errorf("remove the device certificate for %s: %w", u.Name, err))
		}
	}
	if m.Policies != nil {
		if err := m.Policies.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove the browsers' certificate policy: %w", err))
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(m.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) path() string { return m.StateDir + string(os.PathSeparator) + PlacedFile }

func (m *Manager) load() (placed, error) {
	var p placed
	b, err := os.ReadFile(m.path())
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read %s: %w", PlacedFile, err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return placed{}, fmt.Errorf("read %s: %w", PlacedFile, err)
	}
	return p, nil
}

func (m *Manager) remember(deviceID string, u consoleuser.User) error {
	p, err := m.load()
	if err != nil || p.DeviceID != deviceID {
		p = placed{DeviceID: deviceID}
	}
	if !slices.ContainsFunc(p.Users, func(x consoleuser.User) bool { return x.ID == u.ID }) {
		p.Users = append(p.Users, consoleuser.User{Name: u.Name, ID: u.ID, Home: u.Home})
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(m.path(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", PlacedFile, err)
	}
	return nil
}

// FromState returns the identity in the agent's state directory. A key
// that is not a plain ECDSA key in memory (a hardware key) is wrapped as
// one that cannot be exported.
func FromState(dir *state.Dir) (Identity, error) {
	creds, err := dir.LoadCredentials()
	if err != nil {
		return Identity{}, err
	}
	var key Key
	if k, ok := inMemoryECDSA(creds.Certificate.PrivateKey); ok {
		key = SoftwareKey{k}
	} else if s, ok := creds.Certificate.PrivateKey.(crypto.Signer); ok {
		key = hardwareKey{s}
	} else {
		return Identity{}, fmt.Errorf("device key of type %T cannot sign", creds.Certificate.PrivateKey)
	}
	return Identity{DeviceID: creds.Identity.DeviceID, Cert: creds.Certificate.Leaf, Key: key,
		GatewayURL: creds.Identity.GatewayURL}, nil
}

// inMemoryECDSA returns the ECDSA key of a software device key: a plain
// *ecdsa.PrivateKey, or a wrapper that embeds one (the state directory's
// software key type). Any other signer is a platform's key.
func inMemoryECDSA(k any) (*ecdsa.PrivateKey, bool) {
	if e, ok := k.(*ecdsa.PrivateKey); ok {
		return e, e != nil
	}
	v := reflect.ValueOf(k)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil, false
	}
	f := v.FieldByName("PrivateKey")
	if !f.IsValid() || !f.CanInterface() {
		return nil, false
	}
	e, ok := f.Interface().(*ecdsa.PrivateKey)
	return e, ok && e != nil
}

// hardwareKey is a key the platform holds; it is never exported. A
// store that can use it in place needs its Reference, which the
// hardware-key code provides by implementing Key itself.
type hardwareKey struct{ crypto.Signer }

func (hardwareKey) Exportable() (crypto.PrivateKey, bool) { return nil, false }

func (k hardwareKey) Reference() string {
	if r, ok := k.Signer.(interface{ Reference() string }); ok {
		return r.Reference()
	}
	return ""
}

// Placed reports whether the certificate was placed for the user with
// this uid: the key server (KeyServer.Allow) lets only those users use a
// hardware device key. Root, the agent itself, is not among them unless
// it was the console user.
func (m *Manager) Placed(uid int) bool {
	p, err := m.load()
	if err != nil {
		return false
	}
	id := strconv.Itoa(uid)
	return slices.ContainsFunc(p.Users, func(u consoleuser.User) bool { return u.ID == id })
}
