; worker-agent installer for Windows: per user, no admin rights.
;
; Installs worker-agent.exe under %LOCALAPPDATA%\Programs\FineTuneLab\worker-agent, puts that
; folder on the user's PATH, asks for the worker API key and server URL and runs
; `worker-agent init` (skipped when a config exists), optionally starts the agent at logon
; through `worker-agent service install` (the same Task Scheduler definition), and adds an
; Add/Remove Programs entry under HKCU. The uninstaller stops and removes the logon task and
; the files and keeps the config unless asked (/PURGE, or "Yes" when it asks).
;
; Build (any OS with NSIS 3):
;   makensis -DVERSION=1.2.3 -DAGENT_EXE=dist/worker-agent-windows-x64.exe \
;     -DOUTFILE=dist/worker-agent-setup-windows-x64.exe installer/windows/worker-agent.nsi
; Silent install:   worker-agent-setup.exe /S [/APIKEY=wak_...] [/SERVERURL=https://...] [/LOGON]
; Silent uninstall: uninstall.exe /S [/PURGE]

Unicode true
Target amd64-unicode

!ifndef VERSION
  !error "pass -DVERSION=X.Y.Z"
!endif
!ifndef AGENT_EXE
  !error "pass -DAGENT_EXE=path\to\worker-agent.exe"
!endif
!ifndef OUTFILE
  !define OUTFILE "worker-agent-setup-windows-x64.exe"
!endif
!ifndef VERSION_QUAD
  !define VERSION_QUAD "${VERSION}.0"
!endif

;   -DSIGN_COMMAND="sh installer/sign/authenticode.sh" signs the uninstaller while it is
;   built (so the signed uninstaller is what the installer carries) and then the installer.
!ifdef SIGN_COMMAND
  !uninstfinalize '${SIGN_COMMAND} "%1"' = 0
  !finalize '${SIGN_COMMAND} "%1"' = 0
!endif

!define PRODUCT "FineTuneLab worker agent"
!define PUBLISHER "FineTuneLab"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\FineTuneLab.WorkerAgent"
; The agent's own default paths (src/platform/paths.ts) and task name (service_definitions.ts).
!define CONFIG_DIR "$APPDATA\FineTuneLab\worker-agent"
!define STATE_DIR "$LOCALAPPDATA\FineTuneLab\worker-agent"
!define TASK_NAME "FineTuneLab Worker Agent"
!define DEFAULT_SERVER_URL "https://app.finetunelab.ai"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\FineTuneLab\worker-agent"
SetCompressor /SOLID lzma
ManifestDPIAware true
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION_QUAD}"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "FileDescription" "${PRODUCT} setup"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!include "MUI2.nsh"
!include "nsDialogs.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "StrFunc.nsh"
!include "WinMessages.nsh"

${StrLoc}
${UnStrLoc}
${UnStrRep}

Var ApiKey
Var ServerUrl
Var ApiKeyField
Var ServerUrlField
Var Purge

!define MUI_ABORTWARNING
Page custom ConnectPage ConnectPageLeave
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "worker-agent is installed and on your PATH (open a new terminal).$\r$\n$\r$\nCheck the connection with:  worker-agent doctor$\r$\nRun it now with:  worker-agent run"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; The key and server page; skipped when a config exists (the installer never replaces it).
Function ConnectPage
  ${If} ${FileExists} "${CONFIG_DIR}\config.yaml"
    Abort
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "Connect to FineTuneLab" "The worker API key comes from the FineTuneLab dashboard."
  nsDialogs::Create 1018
  Pop $0
  ${NSD_CreateLabel} 0 0 100% 12u "Worker API key (wak_...):"
  Pop $0
  ${NSD_CreatePassword} 0 13u 100% 12u $ApiKey
  Pop $ApiKeyField
  ${NSD_CreateLabel} 0 33u 100% 12u "Server URL:"
  Pop $0
  ${NSD_CreateText} 0 46u 100% 12u $ServerUrl
  Pop $ServerUrlField
  ${NSD_CreateLabel} 0 68u 100% 36u "The key is written to your config file (readable by you only). Leave it empty to run 'worker-agent init' yourself later."
  Pop $0
  nsDialogs::Show
FunctionEnd

Function ConnectPageLeave
  ${NSD_GetText} $ApiKeyField $ApiKey
  ${NSD_GetText} $ServerUrlField $ServerUrl
FunctionEnd

Section "worker-agent (required)" SecMain
  SectionIn RO
  ; An agent started at logon holds the exe open: stop it before replacing the file.
  nsExec::ExecToLog 'schtasks /End /TN "${TASK_NAME}"'
  Pop $0
  SetOutPath "$INSTDIR"
  File "/oname=worker-agent.exe" "${AGENT_EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  Call AddToPath

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "URLInfoAbout" "https://github.com/finetunelab/worker-agent"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\worker-agent.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"

  ${IfNot} ${FileExists} "${CONFIG_DIR}\config.yaml"
    ${If} $ApiKey != ""
      ; The key reaches `init` through the environment, never the command line.
      System::Call 'Kernel32::SetEnvironmentVariable(t "FTL_API_KEY", t "$ApiKey") i'
      nsExec::ExecToLog '"$INSTDIR\worker-agent.exe" init --base-url "$ServerUrl"'
      Pop $0
      System::Call 'Kernel32::SetEnvironmentVariable(t "FTL_API_KEY", p 0) i'
      ${If} $0 != 0
        DetailPrint "worker-agent init failed (exit code $0); run 'worker-agent init' yourself."
      ${EndIf}
    ${Else}
      DetailPrint "No key given: run 'worker-agent init' to write the config."
    ${EndIf}
  ${EndIf}
SectionEnd

Section /o "Start at logon (Task Scheduler)" SecLogon
  nsExec::ExecToLog '"$INSTDIR\worker-agent.exe" service install'
  Pop $0
  ${If} $0 != 0
    DetailPrint "'worker-agent service install' failed (exit code $0); run it after 'worker-agent init'."
  ${EndIf}
SectionEnd

Function .onInit
  ${GetParameters} $R0
  ${GetOptions} $R0 "/APIKEY=" $ApiKey
  ClearErrors
  ${GetOptions} $R0 "/SERVERURL=" $ServerUrl
  ${If} $ServerUrl == ""
    StrCpy $ServerUrl "${DEFAULT_SERVER_URL}"
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/LOGON" $R1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecLogon} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} "The agent, on your PATH."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecLogon} "Start the agent when you log on, as 'worker-agent service install' does."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; NSIS strings hold 1024 characters: a longer PATH is left alone rather than cut.
Function AddToPath
  ClearErrors
  ReadRegStr $0 HKCU "Environment" "Path"
  StrLen $1 $0
  ${If} $1 > 900
    DetailPrint "Your user PATH is too long to edit safely; add $INSTDIR to it yourself."
    Return
  ${EndIf}
  ${StrLoc} $1 ";$0;" ";$INSTDIR;" ">"
  ${If} $1 == ""
    ${If} $0 == ""
      StrCpy $0 "$INSTDIR"
    ${Else}
      StrCpy $0 "$0;$INSTDIR"
    ${EndIf}
    WriteRegExpandStr HKCU "Environment" "Path" "$0"
    SendMessage ${HWND_BROADCAST} ${WM_WININICHANGE} 0 "STR:Environment" /TIMEOUT=5000
  ${EndIf}
FunctionEnd

Function un.RemoveFromPath
  ReadRegStr $0 HKCU "Environment" "Path"
  StrLen $1 $0
  ${If} $1 > 900
    DetailPrint "Your user PATH is too long to edit safely; remove $INSTDIR from it yourself."
    Return
  ${EndIf}
  ${UnStrLoc} $1 ";$0;" ";$INSTDIR;" ">"
  ${If} $1 != ""
    ${UnStrRep} $0 ";$0;" ";$INSTDIR;" ";"
    StrCpy $0 $0 "" 1
    StrCpy $0 $0 -1
    WriteRegExpandStr HKCU "Environment" "Path" "$0"
    SendMessage ${HWND_BROADCAST} ${WM_WININICHANGE} 0 "STR:Environment" /TIMEOUT=5000
  ${EndIf}
FunctionEnd

Function un.onInit
  StrCpy $Purge 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    StrCpy $Purge 1
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ; Stop and remove the logon task (what `worker-agent service uninstall` does, without
  ; needing a config to load).
  nsExec::ExecToLog 'schtasks /End /TN "${TASK_NAME}"'
  Pop $0
  nsExec::ExecToLog 'schtasks /Delete /TN "${TASK_NAME}" /F'
  Pop $0
  Delete "${STATE_DIR}\state\finetunelab-worker-agent.xml"
  Delete "$INSTDIR\worker-agent.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Call un.RemoveFromPath
  DeleteRegKey HKCU "${UNINSTALL_KEY}"

  ${If} $Purge != 1
    MessageBox MB_YESNO|MB_DEFBUTTON2|MB_ICONQUESTION "Also delete your configuration (with the worker key) and the agent's state?$\r$\n${CONFIG_DIR}$\r$\n${STATE_DIR}" /SD IDNO IDNO keep_config
    StrCpy $Purge 1
    keep_config:
  ${EndIf}
  ${If} $Purge == 1
    RMDir /r "${CONFIG_DIR}"
    RMDir /r "${STATE_DIR}"
  ${Else}
    DetailPrint "Kept your configuration in ${CONFIG_DIR}."
  ${EndIf}
SectionEnd
