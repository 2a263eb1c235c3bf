// Package ossupported is the `os_supported` control (Policy 550.04
// C.7.a.iii): the operating system release is still supported by its
// vendor with security updates.
//
// The collector reads the release identity through package osdata
// (Windows: CurrentBuildNumber, UBR, EditionID and InstallationType from
// the registry; macOS: SystemVersion.plist, else sw_vers; Linux:
// os-release) and the evidence of extended-support enrolment: the
// licensed ESU add-ons among Windows' SoftwareLicensingProduct licences
// (queried only for releases whose extension needs one), Ubuntu Pro's
// status.json (else `pro status --format json`), and SUSE's
// /etc/products.d. The evaluator, run by agent and server alike, judges
// the release against the embedded end-of-life table with the policy's
// `releases` changes (see osdata), so a table update on the server
// applies to every device at once. Extended support (ESU, ESM, Debian
// LTS, LTSS) passes unless the policy sets `allow_extended: false`.
// Windows, macOS and Linux logic is portable and chosen by the host's
// GOOS, so snapshots of any OS are checked anywhere.
package ossupported
