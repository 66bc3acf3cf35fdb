; Inno Setup 6 script of the riskmap installer for Windows 10/11 (x64). It packs the one-folder bundle that
; packaging/riskmap.spec builds (dist\riskmap: riskmap.exe for the command line, riskmapw.exe for the window),
; adds Start-menu and desktop shortcuts and opens .gpkg project files with riskmap. From the repository root:
;   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\riskmap.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\riskmap.iss      -> dist\riskmap-0.1.0-windows-x64-setup.exe
; .github/workflows/windows.yml does both on a Windows runner (packaging/README.md).
; Saved as UTF-8 with a BOM, so the Chinese names below reach the installer as they are.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define BundleDir "..\..\dist\riskmap"

[Setup]
AppId={{5B0C7E2A-3F4D-4A8E-9C61-2D7F0B1E6A93}
AppName=riskmap 安全风险一张图
AppVersion={#AppVersion}
AppVerName=riskmap {#AppVersion}
AppPublisher=riskmap
DefaultDirName={autopf}\riskmap
DefaultGroupName=riskmap
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=riskmap-{#AppVersion}-windows-x64-setup
SetupIconFile=..\icons\riskmap.ico
UninstallDisplayIcon={app}\riskmapw.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 1809 or later: Qt 6 and Python 3.11 run on nothing older (no Windows 7, see packaging/README.md)
MinVersion=10.0.17763
; per machine by default (Program Files); a user without administrator rights may install for himself
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
ChangesAssociations=yes
WizardStyle=modern

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
; Inno Setup ships Chinese only as an unofficial translation: put ChineseSimplified.isl beside this script
#ifexist "ChineseSimplified.isl"
Name: "zh"; MessagesFile: "ChineseSimplified.isl"
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\riskmap 安全风险一张图"; Filename: "{app}\riskmapw.exe"
Name: "{group}\{cm:UninstallProgram,riskmap}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\riskmap 安全风险一张图"; Filename: "{app}\riskmapw.exe"; Tasks: desktopicon

[Registry]
; .gpkg project files open with riskmap (offered under "Open with" when another program already owns .gpkg)
Root: HKA; Subkey: "Software\Classes\.gpkg\OpenWithProgids"; ValueType: string; ValueName: "riskmap.gpkg"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.gpkg"; ValueType: string; ValueName: ""; ValueData: "riskmap.gpkg"; Flags: uninsdeletevalue createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\riskmap.gpkg"; ValueType: string; ValueName: ""; ValueData: "GeoPackage 项目（riskmap）"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\riskmap.gpkg\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\riskmapw.exe,0"
Root: HKA; Subkey: "Software\Classes\riskmap.gpkg\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\riskmapw.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\riskmapw.exe\SupportedTypes"; ValueType: string; ValueName: ".gpkg"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\riskmapw.exe"; Description: "{cm:LaunchProgram,riskmap}"; Flags: nowait postinstall skipifsilent
