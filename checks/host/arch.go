package host

// Archer is implemented by hosts that know their CPU architecture without
// asking the machine: the live host (the agent's own GOARCH) and a replayed
// snapshot (the architecture it recorded).
type Archer interface {
	Arch() string
}

// Arch returns h's architecture as a Go GOARCH name when h knows it, or "".
func Arch(h Host) string {
	if a, ok := h.(Archer); ok {
		return a.Arch()
	}
	return ""
}
