package secdir

import "testing"

func TestSDDL(t *testing.T) {
	got, err := SDDL("S-1-5-18", false)
	if err != nil || got != "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-18)" {
		t.Errorf("state folder: got %q, %v", got, err)
	}
	got, err = SDDL("S-1-5-21-1004336348-1177238915-682003330-1001", true)
	if err != nil || got != "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)(A;OICI;GRGX;;;BU)" {
		t.Errorf("notify folder: got %q, %v", got, err)
	}
	for _, bad := range []string{"", "SY", "S-1-5-18)(A;;FA;;;WD", "S-1-"} {
		if _, err := SDDL(bad, false); err == nil {
			t.Errorf("SDDL(%q) accepted a value that is not a SID", bad)
		}
	}
}

func TestRestrictIsHarmlessOffWindows(t *testing.T) {
	if err := Restrict(t.TempDir(), false); err != nil {
		t.Fatal(err)
	}
}
