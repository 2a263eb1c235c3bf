package decision

import (
	"context"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// ForgetOnWrite returns st with every write about a device (report ingest,
// enrollment, certificate renewal, revocation, a new agent version, an approval) dropping that device from c
// once the write returns, so that this process's decisions see its own
// writes at once. Wrap the store once, where it is opened, and hand the
// result to every part of the server, so that no writer can forget. Every
// other method is st's. A nil c returns st unchanged.
func ForgetOnWrite(st store.Store, c *PostureCache) store.Store {
	if c == nil {
		return st
	}
	return &forgettingStore{Store: st, c: c}
}

type forgettingStore struct {
	store.Store
	c *PostureCache
}

// IngestReport forgets the device even when it fails: a report whose
// context ended may still be committed by the group writer, and a
// needless re-read costs little.
func (s *forgettingStore) IngestReport(ctx context.Context, in store.Ingest) (bool, error) {
	dup, err := s.Store.IngestReport(ctx, in)
	s.c.Forget(in.DeviceID)
	return dup, err
}

func (s *forgettingStore) Enroll(ctx context.Context, tokenHash string, dev store.Device, now time.Time) (store.Device, error) {
	d, err := s.Store.Enroll(ctx, tokenHash, dev, now)
	s.c.Forget(dev.ID)
	return d, err
}

func (s *forgettingStore) RenewCert(ctx context.Context, id, certSHA256 string, notAfter time.Time) error {
	err := s.Store.RenewCert(ctx, id, certSHA256, notAfter)
	s.c.Forget(id)
	return err
}

func (s *forgettingStore) Revoke(ctx context.Context, id string, at time.Time) error {
	err := s.Store.Revoke(ctx, id, at)
	s.c.Forget(id)
	return err
}

// SetAgentVersion forgets the device: a minimum agent version may now
// judge it differently.
func (s *forgettingStore) SetAgentVersion(ctx context.Context, id, version string) error {
	err := s.Store.SetAgentVersion(ctx, id, version)
	s.c.Forget(id)
	return err
}

// SetApproval forgets the device: an approved or denied enrollment changes
// its decision at once.
func (s *forgettingStore) SetApproval(ctx context.Context, id, approval string) error {
	err := s.Store.SetApproval(ctx, id, approval)
	s.c.Forget(id)
	return err
}
