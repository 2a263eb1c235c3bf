# Written by the Postern agent and replaced before each notification.
# Shows the toast described by toast.xml, next to this script.
$ErrorActionPreference = 'Stop'
$null = [Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]
$null = [Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime]
$path = Join-Path -Path $PSScriptRoot -ChildPath 'toast.xml'
$doc = New-Object -TypeName Windows.Data.Xml.Dom.XmlDocument
$doc.LoadXml([System.IO.File]::ReadAllText($path, [System.Text.Encoding]::UTF8))
$toast = New-Object -TypeName Windows.UI.Notifications.ToastNotification -ArgumentList $doc
$appID = '{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe'
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($appID).Show($toast)
