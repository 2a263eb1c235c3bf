package service

import (
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// processExitWait bounds the wait for a stopped service's process.
const processExitWait = 60 * time.Second

// processExitWaiter finds the service's process before it is stopped and
// returns what waits for that process to end. Without a process (not
// running, or no rights to open it) the wait is a no-op and Install's
// retries cover the deletion.
func processExitWaiter() func() {
	none := func() {}
	m, err := mgr.Connect()
	if err != nil {
		return none
	}
	defer m.Disconnect()
	s, err := m.OpenService(Name)
	if err != nil {
		return none
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil || st.ProcessId == 0 {
		return none
	}
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, st.ProcessId)
	if err != nil {
		return none
	}
	return func() {
		defer windows.CloseHandle(h)
		windows.WaitForSingleObject(h, uint32(processExitWait/time.Millisecond))
	}
}
