# worker-agent installer for Windows. Installs one binary for the current user; no admin needed.
# Usage (PowerShell):
#   irm https://github.com/finetunelab/worker-agent/releases/latest/download/install.ps1 | iex
# Environment: WORKER_AGENT_VERSION, WORKER_AGENT_DOWNLOAD_URL, WORKER_AGENT_INSTALL_DIR
$ErrorActionPreference = "Stop"
$version = if ($env:WORKER_AGENT_VERSION) { $env:WORKER_AGENT_VERSION } else { "latest" }
$repo = "https://github.com/finetunelab/worker-agent/releases"
$base = if ($env:WORKER_AGENT_DOWNLOAD_URL) { $env:WORKER_AGENT_DOWNLOAD_URL }
        elseif ($version -eq "latest") { "$repo/latest/download" } else { "$repo/download/$version" }
$dir = if ($env:WORKER_AGENT_INSTALL_DIR) { $env:WORKER_AGENT_INSTALL_DIR }
       else { Join-Path $env:LOCALAPPDATA "FineTuneLab\worker-agent\bin" }
$file = "worker-agent-windows-x64.exe"
$tmp = Join-Path ([IO.Path]::GetTempPath()) ([Guid]::NewGuid().ToString())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
  Write-Host "Downloading $file from $base"
  Invoke-WebRequest -UseBasicParsing -Uri "$base/$file" -OutFile (Join-Path $tmp $file)
  Invoke-WebRequest -UseBasicParsing -Uri "$base/SHA256SUMS" -OutFile (Join-Path $tmp "SHA256SUMS")
  $line = Get-Content (Join-Path $tmp "SHA256SUMS") | Where-Object { $_ -match "\s\*?$([Regex]::Escape($file))$" }
  if (-not $line) { throw "SHA256SUMS has no entry for $file" }
  $want = ($line -split "\s+")[0].ToLower()
  $got = (Get-FileHash -Algorithm SHA256 (Join-Path $tmp $file)).Hash.ToLower()
  if ($want -ne $got) { throw "checksum mismatch for $file (expected $want, got $got); nothing was installed" }
  $sig = Get-AuthenticodeSignature (Join-Path $tmp $file)
  if ($sig.Status -ne "Valid") { Write-Warning "Authenticode signature status: $($sig.Status)" }
  New-Item -ItemType Directory -Force -Path $dir | Out-Null
  Move-Item -Force (Join-Path $tmp $file) (Join-Path $dir "worker-agent.exe")
  $userPath = [Environment]::GetEnvironmentVariable("Path", "User")
  if (-not ($userPath -split ";" | Where-Object { $_ -eq $dir })) {
    [Environment]::SetEnvironmentVariable("Path", "$userPath;$dir", "User")
    Write-Host "Added $dir to your user PATH (open a new terminal)."
  }
  Write-Host "Installed $dir\worker-agent.exe"
  Write-Host "Next: worker-agent init, then worker-agent run (or worker-agent service install)"
} finally {
  Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}
