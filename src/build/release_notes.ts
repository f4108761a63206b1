/**
 * The release notes and title, written from the files a release actually holds: a platform
 * whose files end in `-unsigned` is named unsigned in the title and the notes. A release is
 * never described as signed on paper.
 *
 * @module
 */

/** The signing state of each platform in a release folder. */
export interface SigningSummary {
  /** Windows exe and installer carry an Authenticode signature. */
  windows: "signed" | "unsigned" | "absent";
  /** macOS binaries are Developer ID-signed and the .pkg notarized and stapled. */
  macos: "signed" | "unsigned" | "absent";
}

/** Reads the signing state from the file names (`…-unsigned…` marks unsigned files). */
export function signingSummary(files: readonly string[]): SigningSummary {
  const state = (pattern: RegExp): SigningSummary["windows"] => {
    const matching = files.filter((f) => pattern.test(f));
    if (matching.length === 0) return "absent";
    return matching.some((f) => f.includes("-unsigned")) ? "unsigned" : "signed";
  };
  return {
    windows: state(/^worker-agent-(setup-)?windows-/),
    macos: state(/^worker-agent-.*darwin-/),
  };
}

/** The release title: `worker-agent v1.2.3`, with `(UNSIGNED: …)` when a platform is unsigned. */
export function releaseTitle(tag: string, files: readonly string[]): string {
  const summary = signingSummary(files);
  const unsigned = [
    ...(summary.windows === "unsigned" ? ["Windows"] : []),
    ...(summary.macos === "unsigned" ? ["macOS"] : []),
  ];
  return `worker-agent ${tag}${unsigned.length ? ` (UNSIGNED: ${unsigned.join(", ")})` : ""}`;
}

/** The release notes (Markdown). */
export function releaseNotes(tag: string, files: readonly string[], repository: string): string {
  const summary = signingSummary(files);
  const identity =
    `^https://github.com/${repository}/\\.github/workflows/release\\.yml@refs/tags/v`;
  const line = (platform: string, state: SigningSummary["windows"], signed: string) =>
    state === "absent"
      ? `- ${platform}: not in this release.`
      : state === "signed"
      ? `- ${platform}: ${signed}.`
      : `- ${platform}: **UNSIGNED.** This release was built without the ${platform} signing ` +
        "secrets; its files end in `-unsigned`, and the installers refuse them unless " +
        "`WORKER_AGENT_ALLOW_UNSIGNED=1` is set.";
  return [
    `# worker-agent ${tag}`,
    "",
    "Install, verify, run as a service, update and uninstall: see docs/install.md.",
    "",
    "## Signatures in this release",
    "",
    line("Windows", summary.windows, "the exe and the installer carry an Authenticode signature"),
    line(
      "macOS",
      summary.macos,
      "the binaries are signed with a Developer ID (hardened runtime); the .pkg is notarized and stapled",
    ),
    "- Linux: binaries and .deb packages have no platform signature (Linux has none); they are " +
    "covered by SHA256SUMS.",
    "- SHA256SUMS is signed keylessly with cosign by this release workflow.",
    "",
    "## Verify",
    "",
    "```sh",
    "sha256sum --ignore-missing -c SHA256SUMS",
    "cosign verify-blob --bundle SHA256SUMS.cosign.bundle \\",
    `  --certificate-identity-regexp '${identity}' \\`,
    "  --certificate-oidc-issuer https://token.actions.githubusercontent.com SHA256SUMS",
    "```",
    "",
  ].join("\n");
}
