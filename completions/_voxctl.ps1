
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'voxctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'voxctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'voxctl' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Swap the running backend for an installed variant, safely')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download, verify and install a backend variant from a release (parallel, resumable)')
            [CompletionResult]::new('split', 'split', [CompletionResultType]::ParameterValue, 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)')
            [CompletionResult]::new('index', 'index', [CompletionResultType]::ParameterValue, 'Write the chunk index (S.chunks) of an existing release file, so that `fetch` can update it by downloading only the chunks that changed (`split` writes one itself)')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign files with a minisign secret key: writes FILE.minisig (and Tauri''s FILE.sig with --tauri-sig), as `minisign -S` does')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show held slots, leases, installed variants, partial downloads and the running backend')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check everything the backend needs on this host: GPUs and the variants they can run, installed variants, partial downloads, the running backend, directories, free space')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running backend as restart does: SIGTERM to its process group (identity checked), SIGKILL after --stop-timeout, then wait until its port is released')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Uninstall a variant: its binary (or extracted directory), install record and partial download')
            [CompletionResult]::new('reap', 'reap', [CompletionResultType]::ParameterValue, 'Clear a wedged previous instance of the app after an update, never a healthy one')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voxctl;restart' {
            [CompletionResult]::new('--variant', '--variant', [CompletionResultType]::ParameterName, 'The variant to start (`auto` falls back to cpu when the detected one is unusable)')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'Start this variant instead when the requested one is missing or fails its version check (only `cpu` makes sense; `--variant auto` implies `--fallback cpu`)')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]')
            [CompletionResult]::new('--health-url', '--health-url', [CompletionResultType]::ParameterName, 'The health URL to poll (http:// only) [default: the running backend''s while the port stays the same, else http://127.0.0.1:{port}/health]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is managed (names assets `{app}-server-{variant}`)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The port the backend serves on (passed as `--port`; 1-65535) [default: the running backend''s, else 17493]')
            [CompletionResult]::new('--stop-timeout', '--stop-timeout', [CompletionResultType]::ParameterName, 'How long the old backend gets after SIGTERM before SIGKILL, and then the port to be released (e.g. 10s, 500ms; more than 0)')
            [CompletionResult]::new('--ready-timeout', '--ready-timeout', [CompletionResultType]::ParameterName, 'How long the new backend gets to answer 200 on the health URL (more than 0; a rollback to the previous backend gets at least 120s, and at least twice its recorded start-up time)')
            [CompletionResult]::new('--expect-version', '--expect-version', [CompletionResultType]::ParameterName, 'The version the new binary must report (`BIN --version`) [default: the version recorded when it was fetched]')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'If another restart or stop of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another restart or stop of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--reset-config', '--reset-config', [CompletionResultType]::ParameterName, 'Do not keep the running backend''s port, health URL and extra arguments: start from the defaults (what this command line gives still applies)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;fetch' {
            [CompletionResult]::new('--variant', '--variant', [CompletionResultType]::ParameterName, 'The variant to install')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'The release: an http(s):// base URL, a file:// URL or a directory [default: the voicebox GitHub release, latest or --tag]')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'A mirror of the release (http(s)://, file:// or a directory), asked for the asset''s bytes before --source, in the order given; repeatable [env: VOXCTL_MIRRORS, space separated]. Manifests, checksums and signatures still come from --source, and every byte from a mirror is checked against them: one serving a wrong byte is named and skipped for the rest of the run, one that fails hands over to the next source')
            [CompletionResult]::new('--pubkey-file', '--pubkey-file', [CompletionResultType]::ParameterName, 'Trust the key in this minisign .pub file (repeatable)')
            [CompletionResult]::new('--tauri-conf', '--tauri-conf', [CompletionResultType]::ParameterName, 'Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or tauri.updater.pubkey (v1)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'A local file to take unchanged chunks from when the release has a chunk index (S.chunks), besides the installed asset of the variant, which is always tried (an older build kept elsewhere, a copy on another disk). Repeatable. Every chunk taken is hashed, and the whole file''s SHA-256 decides before install')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is managed (names assets `{app}-server-{variant}`)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The release tag: selects the GitHub release when no --source is given; recorded as the installed version unless the release''s signed manifest states one')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Parts downloaded at the same time (1-64)')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries per request after network errors, 408, 429 and 5xx answers (exponential backoff with jitter; Retry-After is honoured up to 60s). Per part and source for the whole run, refilled only by new data, so a part gets at most 17 x N retries')
            [CompletionResult]::new('--retry-delay', '--retry-delay', [CompletionResultType]::ParameterName, 'The first retry delay; it doubles each retry, up to 60s (0: retry at once)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time allowed to connect to a server (more than 0)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest silence allowed while receiving data (more than 0; no setting without a limit: a silent server would hang the fetch forever); a body must also average 1 KiB/s over each such window')
            [CompletionResult]::new('--pubkey', '--pubkey', [CompletionResultType]::ParameterName, 'Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or Tauri''s base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of every source (also the VOXCTL_PUBKEY env var) are trusted together')
            [CompletionResult]::new('--detect-timeout', '--detect-timeout', [CompletionResultType]::ParameterName, 'How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0)')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'The most an archive release (S.tar.gz) may expand to, uncompressed, such as 40GB or 32GiB; beyond it the archive is refused (exit 3) [default: 20 times the archive''s size, at least 16 MiB]')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'If another fetch of the same asset holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another fetch of the same asset holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Download and install even if the installed file already matches the release (the compatibility check still runs)')
            [CompletionResult]::new('--allow-downgrade', '--allow-downgrade', [CompletionResultType]::ParameterName, 'Install a signed release even when its version is older than the installed one (otherwise refused, exit 5). Only a signed manifest''s app_version counts, never --tag')
            [CompletionResult]::new('--repair', '--repair', [CompletionResultType]::ParameterName, 'Bring a damaged install back to its recorded build, from the release it came from (the install record''s source; --source is not used): files are checked first, and nothing is downloaded when all are intact; an archive install gets only its broken files replaced')
            [CompletionResult]::new('--skip-compat-check', '--skip-compat-check', [CompletionResultType]::ParameterName, 'Download even if the release states hardware requirements (CUDA archs, driver, ROCm targets) that no GPU here meets')
            [CompletionResult]::new('--no-delta', '--no-delta', [CompletionResultType]::ParameterName, 'Download the whole asset even when the release has a chunk index and local files hold some of its chunks')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be downloaded and what reused (reading the installed asset and the seeds), then stop: nothing is downloaded or written')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;split' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write the parts and manifests to (created if missing)')
            [CompletionResult]::new('--variant', '--variant', [CompletionResultType]::ParameterName, 'The variant to record in the JSON manifest')
            [CompletionResult]::new('--sign', '--sign', [CompletionResultType]::ParameterName, 'Sign S.manifest.json and S.sha256 with this minisign secret key (minisign''s file or Tauri''s base64 of it), writing S.manifest.json.minisig and S.sha256.minisig. The password comes from VOXCTL_SIGN_PASSWORD or a prompt on a terminal')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--part-size', '--part-size', [CompletionResultType]::ParameterName, 'Size of each part (the last may be smaller), spelled as for GNU `split -b`, which cuts the same parts: digits are bytes; K, M, G (or KiB, MiB, GiB) are powers of 1024; KB, MB, GB powers of 1000; b is 512; whole numbers only (1900MB, not 1.9GB). From 1 byte to under 2 GiB. Recorded as `chunk_size` in the JSON manifest. Alias: --chunk-size')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Size of each part (the last may be smaller), spelled as for GNU `split -b`, which cuts the same parts: digits are bytes; K, M, G (or KiB, MiB, GiB) are powers of 1024; KB, MB, GB powers of 1000; b is 512; whole numbers only (1900MB, not 1.9GB). From 1 byte to under 2 GiB. Recorded as `chunk_size` in the JSON manifest. Alias: --chunk-size')
            [CompletionResult]::new('--asset', '--asset', [CompletionResultType]::ParameterName, 'The asset name that parts and manifests are named after [default: FILE''s name]')
            [CompletionResult]::new('--app-version', '--app-version', [CompletionResultType]::ParameterName, 'The app version to record in the JSON manifest')
            [CompletionResult]::new('--cuda-arch-list', '--cuda-arch-list', [CompletionResultType]::ParameterName, 'The CUDA architectures the build has code for, in TORCH_CUDA_ARCH_LIST syntax (e.g. "8.0;8.6;8.9;9.0;12.0+PTX"); `fetch` refuses a GPU this list cannot run on')
            [CompletionResult]::new('--min-driver', '--min-driver', [CompletionResultType]::ParameterName, 'The oldest NVIDIA driver the build runs on (e.g. 525.60.13)')
            [CompletionResult]::new('--rocm-gfx', '--rocm-gfx', [CompletionResultType]::ParameterName, 'The ROCm gfx targets the build has code for (e.g. "gfx1030;gfx1100")')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace existing outputs (and remove parts numbered beyond the new last one)')
            [CompletionResult]::new('--no-index', '--no-index', [CompletionResultType]::ParameterName, 'Write no chunk index (S.chunks; `fetch` then downloads updates whole). An existing S.chunks still counts as an output: refused without --force, removed with it, so no index describes another build')
            [CompletionResult]::new('--fsync', '--fsync', [CompletionResultType]::ParameterName, 'fsync every output before it is renamed, so that not even a power loss can leave a manifest naming a part whose data is not on disk (slower: waits for the disk)')
            [CompletionResult]::new('--tauri-sig', '--tauri-sig', [CompletionResultType]::ParameterName, 'With --sign: also write Tauri''s form of each signature (X.sig, base64)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;index' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write S.chunks to (created if missing) [default: FILE''s directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--asset', '--asset', [CompletionResultType]::ParameterName, 'The asset name that names the index [default: FILE''s name]')
            [CompletionResult]::new('--avg-size', '--avg-size', [CompletionResultType]::ParameterName, 'The average chunk size: a power of two from 256 bytes to 4 MiB, spelled as for --part-size (16K, 64KiB); chunks are at least a quarter and at most four times it [default: 16K, what split uses]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing S.chunks')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;sign' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The minisign secret key (as `minisign -G` or `tauri signer generate` writes it)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The minisign secret key (as `minisign -G` or `tauri signer generate` writes it)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--tauri-sig', '--tauri-sig', [CompletionResultType]::ParameterName, 'Also write Tauri''s form of each signature (FILE.sig: base64 of FILE.minisig)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;verify' {
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Check a split release: each part, and the whole asset by streaming the parts in order')
            [CompletionResult]::new('--pubkey-file', '--pubkey-file', [CompletionResultType]::ParameterName, 'Trust the key in this minisign .pub file (repeatable)')
            [CompletionResult]::new('--tauri-conf', '--tauri-conf', [CompletionResultType]::ParameterName, 'Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or tauri.updater.pubkey (v1)')
            [CompletionResult]::new('--installed', '--installed', [CompletionResultType]::ParameterName, 'Check installed variants (all, or VARIANT: cpu, cuda, rocm) against their install records, re-hashing every file (each file of an archive install)')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'The expected SHA-256 of FILE (64 hex digits; anything else is a usage error, exit 2)')
            [CompletionResult]::new('--pubkey', '--pubkey', [CompletionResultType]::ParameterName, 'Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or Tauri''s base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of every source (also the VOXCTL_PUBKEY env var) are trusted together')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is managed (names assets `{app}-server-{variant}`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Read checksums from the FILEs (or stdin) and check the files they list')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Read checksums from the FILEs (or stdin) and check the files they list')
            [CompletionResult]::new('--relative-to-sums', '--relative-to-sums', [CompletionResultType]::ParameterName, 'With -c: resolve relative names against each sums file''s directory (stdin: the current directory) instead of the current directory, e.g. a downloaded S.sha256 beside the asset it names: `verify -c --relative-to-sums dl/S.sha256`. split''s --out dir holds only the parts: check those with --manifest')
            [CompletionResult]::new('--ignore-missing', '--ignore-missing', [CompletionResultType]::ParameterName, 'With -c: skip files that do not exist instead of failing (a sums file with no file verified still fails)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'With -c: a malformed line is a failure, not a warning')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'With -c: print no result lines and no summary, as `sha256sum -c --status`; the exit status says it all (files that cannot be read are still named on stderr)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'With -c: name each improperly formatted line on stderr, as `sha256sum -c -w`')
            [CompletionResult]::new('--warn', '--warn', [CompletionResultType]::ParameterName, 'With -c: name each improperly formatted line on stderr, as `sha256sum -c -w`')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;status' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is managed (names assets `{app}-server-{variant}`)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;doctor' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is managed (names assets `{app}-server-{variant}`)')
            [CompletionResult]::new('--detect-timeout', '--detect-timeout', [CompletionResultType]::ParameterName, 'How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0)')
            [CompletionResult]::new('--deep', '--deep', [CompletionResultType]::ParameterName, 'Re-hash every installed file instead of comparing sizes with the install record')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;stop' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is stopped')
            [CompletionResult]::new('--stop-timeout', '--stop-timeout', [CompletionResultType]::ParameterName, 'How long the backend gets after SIGTERM before SIGKILL, and then its port to be released (more than 0)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'If a restart of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If a restart of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;remove' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'The app whose backend is managed (names assets `{app}-server-{variant}`)')
            [CompletionResult]::new('--stop-timeout', '--stop-timeout', [CompletionResultType]::ParameterName, 'With --force: how long the backend gets after SIGTERM before SIGKILL (more than 0)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'If a fetch of the variant is running, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If a fetch of the variant is running, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'If the backend runs this variant, stop it first (as `voxctl stop`) instead of exiting 5')
            [CompletionResult]::new('--partial-only', '--partial-only', [CompletionResultType]::ParameterName, 'Remove only the variant''s partial download, keeping what is installed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;reap' {
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'The app''s `SingletonLock` symlink (target `<hostname>-<pid>`); on Windows the profile''s `lockfile` (held open without sharing by the running app)')
            [CompletionResult]::new('--pidfile', '--pidfile', [CompletionResultType]::ParameterName, 'A pidfile naming the app''s pid (instead of --lock)')
            [CompletionResult]::new('--stale-exe', '--stale-exe', [CompletionResultType]::ParameterName, 'Reap the processes still running a replaced or deleted copy of the binary at PATH (Linux), instead of a lock holder')
            [CompletionResult]::new('--marker', '--marker', [CompletionResultType]::ParameterName, 'The relaunch marker [default: STATE/relaunch-marker.json]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--max-marker-age', '--max-marker-age', [CompletionResultType]::ParameterName, 'Ignore a marker older than this (more than 0) [default: 5m]')
            [CompletionResult]::new('--teardown-grace', '--teardown-grace', [CompletionResultType]::ParameterName, 'How long to wait, sending nothing, for the holder to exit or release the lock (0: send SIGTERM at once)')
            [CompletionResult]::new('--term-grace', '--term-grace', [CompletionResultType]::ParameterName, 'How long to wait after SIGTERM before SIGKILL (0: SIGKILL at once)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the decision and what would be sent; consume nothing, signal nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('mark', 'mark', [CompletionResultType]::ParameterValue, 'Record the instance about to be replaced (run by the updater just before relaunching)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voxctl;reap;mark' {
            [CompletionResult]::new('--marker', '--marker', [CompletionResultType]::ParameterName, 'Where to write the marker [default: STATE/relaunch-marker.json]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'The pid of the instance being replaced [default: voxctl''s parent]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;reap;help' {
            [CompletionResult]::new('mark', 'mark', [CompletionResultType]::ParameterValue, 'Record the instance about to be replaced (run by the updater just before relaunching)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voxctl;reap;help;mark' {
            break
        }
        'voxctl;reap;help;help' {
            break
        }
        'voxctl;lease' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('acquire', 'acquire', [CompletionResultType]::ParameterValue, 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)')
            [CompletionResult]::new('renew', 'renew', [CompletionResultType]::ParameterValue, 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release a held lease (exit 6 if TOKEN is not the current token)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show one lease: state, holder, token, age, time left')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every known lease')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voxctl;lease;acquire' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole seconds, at least its minimum, usually 2s)')
            [CompletionResult]::new('--holder', '--holder', [CompletionResultType]::ParameterName, 'Who holds it, as shown by status [default: HOST:PID]')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--owner-pid', '--owner-pid', [CompletionResultType]::ParameterName, 'The process that owns the lease: when that exact process (pid, start time, pid namespace, boot) is gone on this host, the lease is abandoned and can be taken over at once, before its TTL runs out. Without it only the TTL counts')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;lease;renew' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The fencing token printed by acquire')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'The new TTL [default: the lease''s current TTL]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;lease;release' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The fencing token printed by acquire')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;lease;status' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;lease;list' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;lease;run' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole seconds, at least its minimum, usually 2s)')
            [CompletionResult]::new('--holder', '--holder', [CompletionResultType]::ParameterName, 'Who holds it, as shown by status [default: HOST:PID]')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.')
            [CompletionResult]::new('--kill-grace', '--kill-grace', [CompletionResultType]::ParameterName, 'After a lost lease, how long the command gets between SIGTERM and SIGKILL')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'voxctl;lease;help' {
            [CompletionResult]::new('acquire', 'acquire', [CompletionResultType]::ParameterValue, 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)')
            [CompletionResult]::new('renew', 'renew', [CompletionResultType]::ParameterValue, 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release a held lease (exit 6 if TOKEN is not the current token)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show one lease: state, holder, token, age, time left')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every known lease')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voxctl;lease;help;acquire' {
            break
        }
        'voxctl;lease;help;renew' {
            break
        }
        'voxctl;lease;help;release' {
            break
        }
        'voxctl;lease;help;status' {
            break
        }
        'voxctl;lease;help;list' {
            break
        }
        'voxctl;lease;help;run' {
            break
        }
        'voxctl;lease;help;help' {
            break
        }
        'voxctl;completions' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors on stderr (no progress, no messages)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (or JSON lines for event streams) on stdout')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'voxctl;help' {
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Swap the running backend for an installed variant, safely')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download, verify and install a backend variant from a release (parallel, resumable)')
            [CompletionResult]::new('split', 'split', [CompletionResultType]::ParameterValue, 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)')
            [CompletionResult]::new('index', 'index', [CompletionResultType]::ParameterValue, 'Write the chunk index (S.chunks) of an existing release file, so that `fetch` can update it by downloading only the chunks that changed (`split` writes one itself)')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign files with a minisign secret key: writes FILE.minisig (and Tauri''s FILE.sig with --tauri-sig), as `minisign -S` does')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show held slots, leases, installed variants, partial downloads and the running backend')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check everything the backend needs on this host: GPUs and the variants they can run, installed variants, partial downloads, the running backend, directories, free space')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running backend as restart does: SIGTERM to its process group (identity checked), SIGKILL after --stop-timeout, then wait until its port is released')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Uninstall a variant: its binary (or extracted directory), install record and partial download')
            [CompletionResult]::new('reap', 'reap', [CompletionResultType]::ParameterValue, 'Clear a wedged previous instance of the app after an update, never a healthy one')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'voxctl;help;restart' {
            break
        }
        'voxctl;help;fetch' {
            break
        }
        'voxctl;help;split' {
            break
        }
        'voxctl;help;index' {
            break
        }
        'voxctl;help;sign' {
            break
        }
        'voxctl;help;verify' {
            break
        }
        'voxctl;help;status' {
            break
        }
        'voxctl;help;doctor' {
            break
        }
        'voxctl;help;stop' {
            break
        }
        'voxctl;help;remove' {
            break
        }
        'voxctl;help;reap' {
            [CompletionResult]::new('mark', 'mark', [CompletionResultType]::ParameterValue, 'Record the instance about to be replaced (run by the updater just before relaunching)')
            break
        }
        'voxctl;help;reap;mark' {
            break
        }
        'voxctl;help;lease' {
            [CompletionResult]::new('acquire', 'acquire', [CompletionResultType]::ParameterValue, 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)')
            [CompletionResult]::new('renew', 'renew', [CompletionResultType]::ParameterValue, 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release a held lease (exit 6 if TOKEN is not the current token)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show one lease: state, holder, token, age, time left')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every known lease')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)')
            break
        }
        'voxctl;help;lease;acquire' {
            break
        }
        'voxctl;help;lease;renew' {
            break
        }
        'voxctl;help;lease;release' {
            break
        }
        'voxctl;help;lease;status' {
            break
        }
        'voxctl;help;lease;list' {
            break
        }
        'voxctl;help;lease;run' {
            break
        }
        'voxctl;help;completions' {
            break
        }
        'voxctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
