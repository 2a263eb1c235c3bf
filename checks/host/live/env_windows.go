//go:build windows

package live

import (
	"os"
	"os/exec"
	"syscall"
)

// keptEnv are the variables Windows programs (PowerShell in particular)
// need to start; everything else of the agent's environment is dropped.
var keptEnv = []string{"SystemRoot", "windir", "SystemDrive", "ProgramData", "ProgramFiles", "ProgramFiles(x86)", "CommonProgramFiles", "TEMP", "TMP", "ALLUSERSPROFILE", "PROCESSOR_ARCHITECTURE", "NUMBER_OF_PROCESSORS", "COMPUTERNAME"}

func minimalEnv() []string {
	env := []string{}
	for _, k := range keptEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	return append(env, `PATH=`+root+`\System32;`+root+`;`+root+`\System32\Wbem;`+root+`\System32\WindowsPowerShell\v1.0`)
}

// configure keeps console programs from flashing a window when the agent
// runs as a service or in a user session.
func configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true}
}
