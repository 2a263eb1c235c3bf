package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// server is the postern-server child process.
type server struct {
	cmd         *exec.Cmd
	quic, https string
	dataDir     string
	done        chan error
	logErrors   chan string
	// logDir holds the policy file and the server's log (server.log).
	logDir string
}

// loadPolicy enforces the firewall only, so that the agents' flips of
// that one control flip decisions (and events) while every control is
// still collected, reported, stored and evaluated.
const loadPolicy = `max_report_age: 1h
attestation:
  required: false
controls:
  password_protected: {enforcement: report}
  password_policy: {enforcement: report}
  os_supported: {enforcement: report}
  os_auto_update: {enforcement: report}
  os_patched: {enforcement: report}
  antivirus: {enforcement: report}
  screen_lock: {enforcement: report}
  wifi_encryption: {enforcement: report}
  disk_encryption: {enforcement: report}
  firewall: {enforcement: block}
`

// startServer runs bin serve on loopback with a scratch data directory
// and waits for its "listening" line.
func startServer(ctx context.Context, bin, dataDir, database string) (*server, error) {
	// The policy lives outside the data directory, which serve --init
	// wants empty.
	pdir, err := os.MkdirTemp("", "postern-load-policy-")
	if err != nil {
		return nil, err
	}
	policy := filepath.Join(pdir, "load-policy.yaml")
	if err := os.WriteFile(policy, []byte(loadPolicy), 0o600); err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", dataDir, "--quic", "127.0.0.1:0", "--https", "127.0.0.1:0", "--policy", policy}
	if _, err := os.Stat(filepath.Join(dataDir, "ca.pem")); errors.Is(err, fs.ErrNotExist) {
		args = append(args, "--init") // a new server; an existing one is reused as it is
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	if database != "" {
		cmd.Env = append(os.Environ(), "POSTERN_DATABASE_URL="+database)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, dataDir: dataDir, done: make(chan error, 1), logErrors: make(chan string, 64)}
	logPath := filepath.Join(pdir, "server.log")
	s.logDir = pdir
	logFile, err := os.Create(logPath)
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	ready := make(chan error, 1)
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(io.TeeReader(stderr, logFile))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		listening := false
		for sc.Scan() {
			var line struct {
				Level, Msg  string
				QUIC, HTTPS string
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if !listening && line.Msg == "listening" {
				s.quic, s.https, listening = line.QUIC, line.HTTPS, true
				ready <- nil
			}
			if line.Level == "ERROR" {
				select {
				case s.logErrors <- sc.Text():
				default:
				}
			}
		}
		if !listening {
			ready <- fmt.Errorf("the server exited before listening; see %s", logPath)
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("the server did not start within 60 s")
	}
	return s, nil
}

// stop ends the server with SIGINT and waits for it.
func (s *server) stop() error {
	defer os.RemoveAll(s.logDir)
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("the server did not stop within 60 s")
	}
}

// procStat is the server's resident memory and CPU time so far.
type procStat struct {
	rssBytes int64
	cpu      time.Duration
}

// clockTick is USER_HZ, 100 on every Linux the project supports.
const clockTick = 10 * time.Millisecond

func (s *server) stat() (procStat, error) {
	pid := s.cmd.Process.Pid
	var ps procStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			ps.rssBytes = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 14th and 15th fields.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return ps, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	ps.cpu = time.Duration(ut+st) * clockTick
	return ps, nil
}
