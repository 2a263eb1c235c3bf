package antivirus

import "fmt"

// wscState is a Windows Security Center productState decoded. The value
// is undocumented; its layout is widely described as bits 12-15 the
// scanner state (0 off, 1 on, 2 snoozed, 3 expired), bits 8-11 the owner
// (1 Windows, i.e. Microsoft Defender) and bits 4-7 the signature status
// (0 up to date, 1 out of date).
type wscState struct {
	Raw       int64
	Scanner   string // "on", "off", "snoozed", "expired" or "unknown"
	Microsoft bool
	UpToDate  bool
}

func decodeProductState(ps int64) wscState {
	s := wscState{Raw: ps, Microsoft: ps&0x0F00 == 0x0100, UpToDate: ps&0x00F0 == 0}
	switch ps & 0xF000 {
	case 0x0000:
		s.Scanner = "off"
	case 0x1000:
		s.Scanner = "on"
	case 0x2000:
		s.Scanner = "snoozed"
	case 0x3000:
		s.Scanner = "expired"
	default:
		s.Scanner = "unknown"
	}
	return s
}

func (s wscState) String() string {
	sig := "up to date"
	if !s.UpToDate {
		sig = "out of date"
	}
	return fmt.Sprintf("productState 0x%06X: %s, definitions %s", s.Raw, s.Scanner, sig)
}
