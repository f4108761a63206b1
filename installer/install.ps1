# worker-agent installer for Windows. Installs one binary for the current user; no admin needed.
# Usage (PowerShell):
#   irm https://github.com/finetunelab/worker-agent/releases/latest/download/install.ps1 | iex
# Checks, each of which stops the install when it fails:
#   - the binary matches the release's SHA256SUMS;
#   - when cosign is on PATH, SHA256SUMS verifies against its Sigstore bundle, signed by this
#     repository's release workflow (without cosign it says so plainly);
#   - the binary's Authenticode signature is Valid. A bad or missing signature is refused; a
#     release marked unsigned (worker-agent-windows-x64-unsigned.exe) installs only with
#     WORKER_AGENT_ALLOW_UNSIGNED=1.
# Environment: WORKER_AGENT_VERSION, WORKER_AGENT_DOWNLOAD_URL, WORKER_AGENT_INSTALL_DIR,
#   WORKER_AGENT_ALLOW_UNSIGNED=1, WORKER_AGENT_SKIP_COSIGN=1
$ErrorActionPreference = "Stop"
$version = if ($env:WORKER_AGENT_VERSION) { $env:WORKER_AGENT_VERSION } else { "latest" }
$repo = "https://github.com/finetunelab/worker-agent/releases"
$base = if ($env:WORKER_AGENT_DOWNLOAD_URL) { $env:WORKER_AGENT_DOWNLOAD_URL }
        elseif ($version -eq "latest") { "$repo/latest/download" } else { "$repo/download/$version" }
$dir = if ($env:WORKER_AGENT_INSTALL_DIR) { $env:WORKER_AGENT_INSTALL_DIR }
       else { Join-Path $env:LOCALAPPDATA "Programs\FineTuneLab\worker-agent" }
$file = "worker-agent-windows-x64.exe"
$identity = "^https://github.com/finetunelab/worker-agent/\.github/workflows/release\.yml@refs/tags/v"
$issuer = "https://token.actions.githubusercontent.com"

function Get-ReleaseFile([string]$name, [string]$dest) {
  if ($base.StartsWith("file://")) {
    Copy-Item -LiteralPath (Join-Path ([Uri]$base).LocalPath $name) -Destination $dest
  } else {
    Invoke-WebRequest -UseBasicParsing -Uri "$base/$name" -OutFile $dest
  }
}

function Get-Checksum([string]$sums, [string]$name) {
  $line = Get-Content $sums | Where-Object { $_ -match "^[0-9a-fA-F]{64}\s+\*?$([Regex]::Escape($name))$" }
  if ($line) { return ($line -split "\s+")[0].ToLower() } else { return $null }
}

$tmp = Join-Path ([IO.Path]::GetTempPath()) ([Guid]::NewGuid().ToString())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
  $sums = Join-Path $tmp "SHA256SUMS"
  Get-ReleaseFile "SHA256SUMS" $sums

  if ($env:WORKER_AGENT_SKIP_COSIGN -eq "1") {
    Write-Host "Skipping the cosign check of SHA256SUMS (WORKER_AGENT_SKIP_COSIGN=1)."
  } elseif (Get-Command cosign -ErrorAction SilentlyContinue) {
    $bundle = Join-Path $tmp "SHA256SUMS.cosign.bundle"
    try { Get-ReleaseFile "SHA256SUMS.cosign.bundle" $bundle }
    catch { throw "cosign is installed but the release has no SHA256SUMS.cosign.bundle; nothing was installed (WORKER_AGENT_SKIP_COSIGN=1 skips this check)" }
    & cosign verify-blob --bundle $bundle --certificate-identity-regexp $identity --certificate-oidc-issuer $issuer $sums
    if ($LASTEXITCODE -ne 0) { throw "cosign could not verify SHA256SUMS against the release workflow's signature; nothing was installed" }
    Write-Host "Verified SHA256SUMS with cosign: signed by the worker-agent release workflow."
  } else {
    Write-Host "cosign is not installed: SHA256SUMS was NOT checked against the release's signature, only the binary against SHA256SUMS. Install cosign to check it (https://docs.sigstore.dev)."
  }

  $unsigned = $false
  $want = Get-Checksum $sums $file
  if (-not $want) {
    $unsignedFile = "worker-agent-windows-x64-unsigned.exe"
    $want = Get-Checksum $sums $unsignedFile
    if ($want) {
      if ($env:WORKER_AGENT_ALLOW_UNSIGNED -ne "1") {
        throw "this release's Windows binary is unsigned ($unsignedFile: built without the Authenticode certificate); set WORKER_AGENT_ALLOW_UNSIGNED=1 to install it anyway"
      }
      Write-Warning "Installing the UNSIGNED $unsignedFile (WORKER_AGENT_ALLOW_UNSIGNED=1)."
      $file = $unsignedFile
      $unsigned = $true
    }
  }
  if (-not $want) { throw "SHA256SUMS has no entry for $file" }

  Write-Host "Downloading $file from $base"
  $download = Join-Path $tmp $file
  Get-ReleaseFile $file $download
  $got = (Get-FileHash -Algorithm SHA256 $download).Hash.ToLower()
  if ($want -ne $got) { throw "checksum mismatch for $file (expected $want, got $got); nothing was installed" }

  $sig = Get-AuthenticodeSignature $download
  if ($unsigned) {
    if ($sig.Status -ne "NotSigned" -and $sig.Status -ne "Valid") {
      throw "Authenticode signature of $file is $($sig.Status): $($sig.StatusMessage); nothing was installed"
    }
  } elseif ($sig.Status -ne "Valid") {
    throw "Authenticode signature of $file is $($sig.Status), not Valid ($($sig.StatusMessage)); nothing was installed"
  } else {
    Write-Host "Authenticode signature is valid: $($sig.SignerCertificate.Subject)"
  }

  New-Item -ItemType Directory -Force -Path $dir | Out-Null
  Move-Item -Force $download (Join-Path $dir "worker-agent.exe")
  $userPath = [Environment]::GetEnvironmentVariable("Path", "User")
  if (-not ($userPath -split ";" | Where-Object { $_ -eq $dir })) {
    $newPath = if ($userPath) { "$userPath;$dir" } else { $dir }
    [Environment]::SetEnvironmentVariable("Path", $newPath, "User")
    Write-Host "Added $dir to your user PATH (open a new terminal)."
  }
  Write-Host "Installed $dir\worker-agent.exe"
  Write-Host "Next: worker-agent init, then worker-agent run (or worker-agent service install)"
} finally {
  Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}
