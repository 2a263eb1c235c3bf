package users

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// matrixRows names the permission each row of docs/accounts.md's role
// matrix stands for.
var matrixRows = map[string]Permission{
	"See the overview, devices and exceptions":               PermView,
	"Read the audit log":                                     PermViewAudit,
	"Ask a device to check again":                            PermRecheck,
	"Add notes to a device":                                  PermNote,
	"Grant and end exceptions":                               PermException,
	"Revoke devices":                                         PermRevoke,
	"Enrollment tokens and secrets":                          PermTokens,
	"Manage accounts (this page) and API keys (docs/api.md)": PermUsers,
	"Apply policy":                                           PermPolicy,
}

func TestRoleMatrixDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/accounts.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| Permission | viewer | analyst | approver | admin |")
	if !ok {
		t.Fatal("docs/accounts.md has no role matrix")
	}
	doc := map[Role][]Permission{}
	seen := map[Permission]bool{}
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		p, ok := matrixRows[strings.TrimSpace(cells[0])]
		if !ok {
			t.Fatalf("matrix row %q names no permission", cells[0])
		}
		seen[p] = true
		for i, r := range []Role{RoleViewer, RoleAnalyst, RoleApprover, RoleAdmin} {
			if strings.TrimSpace(cells[i+1]) == "yes" {
				doc[r] = append(doc[r], p)
			}
		}
	}
	if len(seen) != len(matrixRows) {
		t.Errorf("the matrix has %d of %d permissions", len(seen), len(matrixRows))
	}
	want := map[Role][]Permission{}
	for _, r := range Roles {
		for _, p := range grants[r] {
			if seen[p] {
				want[r] = append(want[r], p)
			}
		}
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("docs/accounts.md role matrix disagrees with role.go (-code +docs):\n%s", diff)
	}
}
