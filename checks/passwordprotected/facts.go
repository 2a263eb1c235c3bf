package passwordprotected

// Password states of an account.
const (
	// PasswordSet: the account has a password (a hash, or Windows requires one).
	PasswordSet = "set"
	// PasswordNone: the account signs in with no password at all.
	PasswordNone = "none"
	// PasswordNotRequired: Windows lets the account have a blank password
	// (PasswordRequired is FALSE).
	PasswordNotRequired = "not_required"
	// PasswordLocked: the account cannot sign in with a password
	// (shadow `!` or `*`, no password hash on macOS).
	PasswordLocked = "locked"
	// PasswordUnknown: the state could not be read.
	PasswordUnknown = "unknown"
)

// maxAccounts bounds the accounts kept in the facts.
const maxAccounts = 200

// Facts is what the collector saw. Password values and hashes are never
// recorded: only whether one is set.
type Facts struct {
	// AutoLogins are the automatic sign-ins that are configured.
	AutoLogins []AutoLogin `json:"auto_logins"`
	// AutoLoginSources lists what was read to look for automatic sign-in.
	AutoLoginSources []string `json:"auto_login_sources"`
	// Accounts are the enabled interactive accounts and their password
	// state (accounts that cannot sign in interactively are left out).
	Accounts []Account `json:"accounts"`
	// AccountsSource names where the accounts were read.
	AccountsSource string `json:"accounts_source,omitempty"`
	// AccountsTruncated is true when more than maxAccounts were found.
	AccountsTruncated bool `json:"accounts_truncated,omitempty"`
	// Unreadable lists sources that could not be read and why; they make
	// the control unknown unless something already fails it.
	Unreadable []string `json:"unreadable,omitempty"`
	// WeakEvidence is supporting information that does not decide the
	// control by itself (e.g. PAM's nullok).
	WeakEvidence []string `json:"weak_evidence,omitempty"`
	// Notes are other observations worth showing.
	Notes []string `json:"notes,omitempty"`
}

// AutoLogin is one configured automatic sign-in.
type AutoLogin struct {
	// Mechanism is gdm, lightdm, sddm, getty, winlogon, loginwindow or
	// kcpassword.
	Mechanism string `json:"mechanism"`
	// User is the account signed in automatically, when named.
	User string `json:"user,omitempty"`
	// Source is the file or registry value that configures it.
	Source string `json:"source"`
	// PasswordStored is true when the password is kept for it (Winlogon
	// DefaultPassword, /etc/kcpassword); the value is never read into facts.
	PasswordStored bool `json:"password_stored,omitempty"`
	// Inactive is true when the display manager configured is not the
	// one the system starts, so the setting has no effect.
	Inactive bool `json:"inactive,omitempty"`
}

// Account is one account that could sign in interactively.
type Account struct {
	Name string `json:"name"`
	// ID is the UID (Linux, macOS) or SID (Windows).
	ID string `json:"id"`
	// Password is one of the Password* states.
	Password string `json:"password"`
	// Disabled is true when the account is disabled or expired.
	Disabled bool `json:"disabled,omitempty"`
	// ExpiresDay is the shadow expiry date in days since 1970-01-01;
	// the account is disabled from that day.
	ExpiresDay *int64 `json:"expires_day,omitempty"`
	// Source says what gave the password state.
	Source string `json:"source"`
}

// addAccount appends a, keeping the list bounded. Once the list is full
// an account without a password still takes the place of one that has a
// password: dropping it would turn a failure into a pass.
func (f *Facts) addAccount(a Account) {
	if len(f.Accounts) < maxAccounts {
		f.Accounts = append(f.Accounts, a)
		return
	}
	f.AccountsTruncated = true
	if !openDoor(a) {
		return
	}
	for i, kept := range f.Accounts {
		if !openDoor(kept) {
			f.Accounts[i] = a
			return
		}
	}
}

// openDoor reports an account that may sign in without a password.
func openDoor(a Account) bool {
	return a.Password == PasswordNone || a.Password == PasswordNotRequired
}
