// Package clock is the wall clock of both binaries and of their tests.
//
// Production code that needs "now" as a default (a spool judging report
// age, an engine deciding whether an exception has expired, a CA issuing a
// certificate, a TLS config checking one) takes clock.Now, never time.Now,
// and tests that mean "whatever today is" use clock.Now too. Tests that
// mean a fixed day inject their own clock everywhere.
//
// Built with the postern_clockshift tag (make test-clockshift), Now runs
// POSTERN_TEST_CLOCK_SHIFT ahead of the wall clock (e.g. 400d). A test that
// pins a date in a fixture but leaves one production default on the wall
// clock — the class of bug where a test set the runner's clock after the
// spool had already taken time.Now — then fails the day it is written
// rather than a year later. Without the tag the shift is a constant zero:
// release builds never read the variable. Portable.
package clock
