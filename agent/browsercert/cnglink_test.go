package browsercert

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCNGLinkPlan(t *testing.T) {
	const name = "Postern-device-0123456789abcdef0123456789abcdef"
	link, err := NewCNGLink(name)
	if err != nil {
		t.Fatal(err)
	}
	want := CNGLink{Container: name, Provider: "Microsoft Platform Crypto Provider", ProvType: 0, Flags: 0x20, KeySpec: 0}
	if diff := cmp.Diff(want, link); diff != "" {
		t.Errorf("CERT_KEY_PROV_INFO (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "Postern-device-XYZ", "Microsoft Smart Card Key", "Postern-device-0123456789abcdef0123456789abcdef\\..\\x"} {
		if _, err := NewCNGLink(bad); err == nil {
			t.Errorf("container %q accepted: the link may name only a key the agent made", bad)
		}
	}
	const sid = "S-1-5-21-1004336348-1177238915-682003330-1001"
	sddl, err := KeyUseSDDL(sid)
	if err != nil || sddl != "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;"+sid+")" {
		t.Errorf("key DACL %q (%v)", sddl, err)
	}
	for _, bad := range []string{"S-1-5-18", "S-1-1-0", "S-1-5-21-1)(A;;GA;;;WD", ""} {
		if _, err := KeyUseSDDL(bad); err == nil {
			t.Errorf("SID %q accepted: only a user account may be granted the key", bad)
		}
	}
	if got := UserMyStoreKey(sid); got != sid+`\Software\Microsoft\SystemCertificates\My` || strings.Contains(got, "..") {
		t.Errorf("store key %q", got)
	}
}
