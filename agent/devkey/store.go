package devkey

// Store is a platform key store holding hardware device keys: the TPM
// (Linux) or the Platform Crypto Provider (Windows). Load opens a key
// from what the state directory keeps of it.
type Store interface {
	Load(blob []byte) (Key, error)
	Close() error
}

// Creator is a store that makes device keys without attestation (the
// Platform Crypto Provider; go-attestation makes no application keys on
// Windows). The server records such keys as software: it saw no proof.
type Creator interface {
	Create() (Key, []byte, error)
}

var (
	_ Store = (*TPM)(nil)
)

// Load opens a key blob made by this TPM.
func (t *TPM) Load(blob []byte) (Key, error) {
	k, err := t.LoadKey(blob)
	if err != nil {
		return nil, err
	}
	return k, nil
}
