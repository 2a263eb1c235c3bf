// Package screenlock is the `screen_lock` control (Policy 550.04 C.7.a.v,
// C.7.a.viii, C.6.a.xiii): the screen locks after at most 20 minutes idle
// and needs a password to unlock.
//
// It measures the effective time until the screen locks with a password
// for the console user (found with checks/consoleuser, since the agent
// runs as root or SYSTEM): every way the screen can lock on its own is a
// Route with its idle time and the grace before a password is asked, on
// mains and on battery where they differ, with machine policy applied over
// the user's setting. Evaluate takes the fastest route with a password on
// each power source and passes when the slowest power source still locks
// within max_idle_seconds (idle + grace).
//
//   - Windows: the "Machine inactivity limit" policy (InactivityTimeoutSecs)
//     and an MDM's DeviceLock/MaxInactivityTimeDeviceLock (minutes);
//     the user's screen saver from HKU\<SID>, group policy values first,
//     active + secure + timeout + a screen saver program, plus Winlogon's
//     ScreenSaverGracePeriod (5 s default); system sleep on mains and on
//     battery with CONSOLELOCK (password on wake) from the power policy,
//     the active scheme's values or its defaults in the registry, falling
//     back to `powercfg /qh` (hidden settings included), then /query, read
//     locale-independently. The display-off timer counts only on Modern
//     Standby machines (CsEnabled=1), plus the user's "Require sign-in"
//     DelayLockInterval or 0 under the AllowDomainDelayLock=0 policy.
//     Waking without the password fails even with a good idle lock:
//     CONSOLELOCK off on a power source where the machine sleeps (idle
//     timer, or LIDACTION sleep/hibernate), or on Modern Standby a
//     "Require sign-in" of Never.
//   - macOS: a configuration profile's com.apple.screensaver payload in
//     /Library/Managed Preferences (per user, then per device) wins; else
//     idleTime from the user's ByHost plist (20 min default) and the
//     password delay from `sysadminctl -screenLock status` run in the
//     user's session; display sleep and system sleep per power source from
//     `pmset -g custom`.
//   - Linux: no local graphical session (logind) is not_applicable. GNOME:
//     idle-delay + lock-delay if lock-enabled and not disable-lock-screen,
//     resolved as dconf does over the user's profile (user database and
//     compiled system databases, read with a small GVDB reader, honouring
//     locks; uncompiled keyfiles as text), then GSettings vendor overrides
//     and upstream defaults. KDE Plasma: kscreenlockerrc [Daemon] Autolock,
//     Timeout and LockGrace over KConfig's directories (the session's
//     XDG_CONFIG_DIRS or /etc/xdg, ~/.config/kdedefaults, ~/.config),
//     kiosk [$i] keys winning. Other desktops are unknown, naming the
//     desktop. A session that does not lock on suspend (GNOME lock on
//     suspend, KDE LockOnResume) fails even with a good idle lock. The
//     session's environment (DCONF_PROFILE, XDG_CONFIG_HOME,
//     XDG_CONFIG_DIRS) is read from a desktop process of its logind
//     session; when it cannot be, the default places can fail the control
//     but not pass it (unknown, saying what to do), except on GNOME keys
//     all locked by the mandatory profile.
//
// Collectors are portable and chosen by the host's GOOS, so any OS's
// snapshot can be checked anywhere.
package screenlock
