package screenlock

import "unicode/utf8"

// Bounds on the text the facts carry. Values come from files and
// registry keys the user writes (kscreenlockerrc, dconf, the session's
// XDG variables, Control Panel\Desktop), and facts over
// checks.MaxFactsSize are dropped whole: a user could otherwise turn a
// failing screen lock into an unreadable one with a long enough value.
const (
	maxValueLen  = 256
	maxReasonLen = 512
)

// bound clips every free-text field of f in place.
func (f *Facts) bound() {
	for i := range f.Settings {
		s := &f.Settings[i]
		s.Name, s.Value, s.Source = clip(s.Name, maxValueLen), clip(s.Value, maxValueLen), clip(s.Source, maxReasonLen)
	}
	for i := range f.Routes {
		r := &f.Routes[i]
		r.Source, r.Unknown = clip(r.Source, maxReasonLen), clip(r.Unknown, maxReasonLen)
	}
	for i := range f.Notes {
		f.Notes[i] = clip(f.Notes[i], maxReasonLen)
	}
	f.Platform, f.User = clip(f.Platform, maxValueLen), clip(f.User, maxValueLen)
	f.NotApplicable, f.UserSettingsUnread, f.ResumeUnlocked = clip(f.NotApplicable, maxReasonLen), clip(f.UserSettingsUnread, maxReasonLen), clip(f.ResumeUnlocked, maxReasonLen)
	f.SessionEnvUnread = clip(f.SessionEnvUnread, maxReasonLen)
}

// clip cuts s to at most n bytes on a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	n -= len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}
