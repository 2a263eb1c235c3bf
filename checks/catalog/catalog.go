package catalog

import (
	_ "github.com/postern-dev/postern/checks/antivirus"         // antivirus
	_ "github.com/postern-dev/postern/checks/diskenc"           // disk_encryption
	_ "github.com/postern-dev/postern/checks/firewall"          // firewall
	_ "github.com/postern-dev/postern/checks/osautoupdate"      // os_auto_update
	_ "github.com/postern-dev/postern/checks/ospatched"         // os_patched
	_ "github.com/postern-dev/postern/checks/ossupported"       // os_supported
	_ "github.com/postern-dev/postern/checks/passwordpolicy"    // password_policy
	_ "github.com/postern-dev/postern/checks/passwordprotected" // password_protected
	_ "github.com/postern-dev/postern/checks/screenlock"        // screen_lock
	_ "github.com/postern-dev/postern/checks/wifienc"           // wifi_encryption
)
