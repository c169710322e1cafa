# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_voxctl_global_optspecs
    string join \n q/quiet v/verbose json yes state-dir= h/help V/version
end

function __fish_voxctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_voxctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_voxctl_using_subcommand
    set -l cmd (__fish_voxctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c voxctl -n "__fish_voxctl_needs_command" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_needs_command" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_needs_command" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_needs_command" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_needs_command" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_needs_command" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "restart" -d 'Swap the running backend for an installed variant, safely'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "fetch" -d 'Download, verify and install a backend variant from a release (parallel, resumable)'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "split" -d 'Split a release file into parts under GitHub\'s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "index" -d 'Write the chunk index (S.chunks) of an existing release file, so that `fetch` can update it by downloading only the chunks that changed (`split` writes one itself)'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "sign" -d 'Sign files with a minisign secret key: writes FILE.minisig (and Tauri\'s FILE.sig with --tauri-sig), as `minisign -S` does'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "verify" -d 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "status" -d 'Show held slots, leases, installed variants, partial downloads and the running backend'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "doctor" -d 'Check everything the backend needs on this host: GPUs and the variants they can run, installed variants, partial downloads, the running backend, directories, free space'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "stop" -d 'Stop the running backend as restart does: SIGTERM to its process group (identity checked), SIGKILL after --stop-timeout, then wait until its port is released'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "remove" -d 'Uninstall a variant: its binary (or extracted directory), install record and partial download'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "reap" -d 'Clear a wedged previous instance of the app after an update, never a healthy one'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "lease" -d 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l variant -d 'The variant to start (`auto` falls back to cpu when the detected one is unusable)' -r -f -a "auto\t'Detect: cuda if nvidia-smi lists a GPU, rocm if the kfd topology lists one, else cpu'
cpu\t'The CPU build'
cuda\t'The NVIDIA CUDA build'
rocm\t'The AMD ROCm build'"
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l fallback -d 'Start this variant instead when the requested one is missing or fails its version check (only `cpu` makes sense; `--variant auto` implies `--fallback cpu`)' -r -f -a "cpu\t''
cuda\t''
rocm\t''"
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\\\{app} on Windows]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l health-url -d 'The health URL to poll (http:// only) [default: the running backend\'s while the port stays the same, else http://127.0.0.1:{port}/health]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l port -d 'The port the backend serves on (passed as `--port`; 1-65535) [default: the running backend\'s, else 17493]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l stop-timeout -d 'How long the old backend gets after SIGTERM before SIGKILL, and then the port to be released (e.g. 10s, 500ms; more than 0)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l ready-timeout -d 'How long the new backend gets to answer 200 on the health URL (more than 0; a rollback to the previous backend gets at least 120s, and at least twice its recorded start-up time)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l expect-version -d 'The version the new binary must report (`BIN --version`) [default: the version recorded when it was fetched]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s w -l wait -d 'If another restart or stop of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l reset-config -d 'Do not keep the running backend\'s port, health URL and extra arguments: start from the defaults (what this command line gives still applies)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l variant -d 'The variant to install' -r -f -a "auto\t'Detect: cuda if nvidia-smi lists a GPU, rocm if the kfd topology lists one, else cpu'
cpu\t'The CPU build'
cuda\t'The NVIDIA CUDA build'
rocm\t'The AMD ROCm build'"
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\\\{app} on Windows]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l source -d 'The release: an http(s):// base URL, a file:// URL or a directory [default: the voicebox GitHub release, latest or --tag]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l mirror -d 'A mirror of the release (http(s)://, file:// or a directory), asked for the asset\'s bytes before --source, in the order given; repeatable [env: VOXCTL_MIRRORS, space separated]. Manifests, checksums and signatures still come from --source, and every byte from a mirror is checked against them: one serving a wrong byte is named and skipped for the rest of the run, one that fails hands over to the next source' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l pubkey-file -d 'Trust the key in this minisign .pub file (repeatable)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l tauri-conf -d 'Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or tauri.updater.pubkey (v1)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l seed -d 'A local file to take unchanged chunks from when the release has a chunk index (S.chunks), besides the installed asset of the variant, which is always tried (an older build kept elsewhere, a copy on another disk). Repeatable. Every chunk taken is hashed, and the whole file\'s SHA-256 decides before install' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l tag -d 'The release tag: selects the GitHub release when no --source is given; recorded as the installed version unless the release\'s signed manifest states one' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l jobs -d 'Parts downloaded at the same time (1-64)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l retries -d 'Retries per request after network errors, 408, 429 and 5xx answers (exponential backoff with jitter; Retry-After is honoured up to 60s). Per part and source for the whole run, refilled only by new data, so a part gets at most 17 x N retries' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l retry-delay -d 'The first retry delay; it doubles each retry, up to 60s (0: retry at once)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l connect-timeout -d 'Time allowed to connect to a server (more than 0)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l read-timeout -d 'Longest silence allowed while receiving data (more than 0; no setting without a limit: a silent server would hang the fetch forever); a body must also average 1 KiB/s over each such window' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l pubkey -d 'Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or Tauri\'s base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of every source (also the VOXCTL_PUBKEY env var) are trusted together' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l detect-timeout -d 'How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l max-size -d 'The most an archive release (S.tar.gz) may expand to, uncompressed, such as 40GB or 32GiB; beyond it the archive is refused (exit 3) [default: 20 times the archive\'s size, at least 16 MiB]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -s w -l wait -d 'If another fetch of the same asset holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l force -d 'Download and install even if the installed file already matches the release (the compatibility check still runs)'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l allow-downgrade -d 'Install a signed release even when its version is older than the installed one (otherwise refused, exit 5). Only a signed manifest\'s app_version counts, never --tag'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l repair -d 'Bring a damaged install back to its recorded build, from the release it came from (the install record\'s source; --source is not used): files are checked first, and nothing is downloaded when all are intact; an archive install gets only its broken files replaced'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l skip-compat-check -d 'Download even if the release states hardware requirements (CUDA archs, driver, ROCm targets) that no GPU here meets'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l no-delta -d 'Download the whole asset even when the release has a chunk index and local files hold some of its chunks'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l dry-run -d 'Print what would be downloaded and what reused (reading the installed asset and the seeds), then stop: nothing is downloaded or written'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l out -d 'Directory to write the parts and manifests to (created if missing)' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l variant -d 'The variant to record in the JSON manifest' -r -f -a "cpu\t''
cuda\t''
rocm\t''"
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l sign -d 'Sign S.manifest.json and S.sha256 with this minisign secret key (minisign\'s file or Tauri\'s base64 of it), writing S.manifest.json.minisig and S.sha256.minisig. The password comes from VOXCTL_SIGN_PASSWORD or a prompt on a terminal' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l part-size -l chunk-size -d 'Size of each part (the last may be smaller), spelled as for GNU `split -b`, which cuts the same parts: digits are bytes; K, M, G (or KiB, MiB, GiB) are powers of 1024; KB, MB, GB powers of 1000; b is 512; whole numbers only (1900MB, not 1.9GB). From 1 byte to under 2 GiB. Recorded as `chunk_size` in the JSON manifest. Alias: --chunk-size' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l asset -d 'The asset name that parts and manifests are named after [default: FILE\'s name]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l app-version -d 'The app version to record in the JSON manifest' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l cuda-arch-list -d 'The CUDA architectures the build has code for, in TORCH_CUDA_ARCH_LIST syntax (e.g. "8.0;8.6;8.9;9.0;12.0+PTX"); `fetch` refuses a GPU this list cannot run on' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l min-driver -d 'The oldest NVIDIA driver the build runs on (e.g. 525.60.13)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l rocm-gfx -d 'The ROCm gfx targets the build has code for (e.g. "gfx1030;gfx1100")' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l force -d 'Replace existing outputs (and remove parts numbered beyond the new last one)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l no-index -d 'Write no chunk index (S.chunks; `fetch` then downloads updates whole). An existing S.chunks still counts as an output: refused without --force, removed with it, so no index describes another build'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l fsync -d 'fsync every output before it is renamed, so that not even a power loss can leave a manifest naming a part whose data is not on disk (slower: waits for the disk)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l tauri-sig -d 'With --sign: also write Tauri\'s form of each signature (X.sig, base64)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l out -d 'Directory to write S.chunks to (created if missing) [default: FILE\'s directory]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l asset -d 'The asset name that names the index [default: FILE\'s name]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l avg-size -d 'The average chunk size: a power of two from 256 bytes to 4 MiB, spelled as for --part-size (16K, 64KiB); chunks are at least a quarter and at most four times it [default: 16K, what split uses]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l force -d 'Replace an existing S.chunks'
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand index" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -s s -l key -d 'The minisign secret key (as `minisign -G` or `tauri signer generate` writes it)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -l tauri-sig -d 'Also write Tauri\'s form of each signature (FILE.sig: base64 of FILE.minisig)'
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand sign" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l manifest -d 'Check a split release: each part, and the whole asset by streaming the parts in order' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l pubkey-file -d 'Trust the key in this minisign .pub file (repeatable)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l tauri-conf -d 'Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or tauri.updater.pubkey (v1)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l installed -d 'Check installed variants (all, or VARIANT: cpu, cuda, rocm) against their install records, re-hashing every file (each file of an archive install)' -r -f -a "all\t''
cpu\t''
cuda\t''
rocm\t''"
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\\\{app} on Windows]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l sha256 -d 'The expected SHA-256 of FILE (64 hex digits; anything else is a usage error, exit 2)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l pubkey -d 'Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or Tauri\'s base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of every source (also the VOXCTL_PUBKEY env var) are trusted together' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s c -l check -d 'Read checksums from the FILEs (or stdin) and check the files they list'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l relative-to-sums -d 'With -c: resolve relative names against each sums file\'s directory (stdin: the current directory) instead of the current directory, e.g. a downloaded S.sha256 beside the asset it names: `verify -c --relative-to-sums dl/S.sha256`. split\'s --out dir holds only the parts: check those with --manifest'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l ignore-missing -d 'With -c: skip files that do not exist instead of failing (a sums file with no file verified still fails)'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l strict -d 'With -c: a malformed line is a failure, not a warning'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l status -d 'With -c: print no result lines and no summary, as `sha256sum -c --status`; the exit status says it all (files that cannot be read are still named on stderr)'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s w -l warn -d 'With -c: name each improperly formatted line on stderr, as `sha256sum -c -w`'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\\\{app} on Windows]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\\\{app} on Windows]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l detect-timeout -d 'How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l deep -d 'Re-hash every installed file instead of comparing sizes with the install record'
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -l app -d 'The app whose backend is stopped' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -l stop-timeout -d 'How long the backend gets after SIGTERM before SIGKILL, and then its port to be released (more than 0)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -s w -l wait -d 'If a restart of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\\\{app} on Windows]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l stop-timeout -d 'With --force: how long the backend gets after SIGTERM before SIGKILL (more than 0)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -s w -l wait -d 'If a fetch of the variant is running, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l force -d 'If the backend runs this variant, stop it first (as `voxctl stop`) instead of exiting 5'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l partial-only -d 'Remove only the variant\'s partial download, keeping what is installed'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l lock -d 'The app\'s `SingletonLock` symlink (target `<hostname>-<pid>`); on Windows the profile\'s `lockfile` (held open without sharing by the running app)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l pidfile -d 'A pidfile naming the app\'s pid (instead of --lock)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l stale-exe -d 'Reap the processes still running a replaced or deleted copy of the binary at PATH (Linux), instead of a lock holder' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l marker -d 'The relaunch marker [default: STATE/relaunch-marker.json]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l max-marker-age -d 'Ignore a marker older than this (more than 0) [default: 5m]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l teardown-grace -d 'How long to wait, sending nothing, for the holder to exit or release the lock (0: send SIGTERM at once)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l term-grace -d 'How long to wait after SIGTERM before SIGKILL (0: SIGKILL at once)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l dry-run -d 'Show the decision and what would be sent; consume nothing, signal nothing'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -f -a "mark" -d 'Record the instance about to be replaced (run by the updater just before relaunching)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and not __fish_seen_subcommand_from mark help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -l marker -d 'Where to write the marker [default: STATE/relaunch-marker.json]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -l pid -d 'The pid of the instance being replaced [default: voxctl\'s parent]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from mark" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from help" -f -a "mark" -d 'Record the instance about to be replaced (run by the updater just before relaunching)'
complete -c voxctl -n "__fish_voxctl_using_subcommand reap; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "acquire" -d 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "renew" -d 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "release" -d 'Release a held lease (exit 6 if TOKEN is not the current token)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "status" -d 'Show one lease: state, holder, token, age, time left'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "list" -d 'List every known lease'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "run" -d 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command\'s status (128+N if killed by signal N)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and not __fish_seen_subcommand_from acquire renew release status list run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l ttl -d 'How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole seconds, at least its minimum, usually 2s)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l holder -d 'Who holds it, as shown by status [default: HOST:PID]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -s w -l wait -d 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l owner-pid -d 'The process that owns the lease: when that exact process (pid, start time, pid namespace, boot) is gone on this host, the lease is abandoned and can be taken over at once, before its TTL runs out. Without it only the TTL counts' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -l token -d 'The fencing token printed by acquire' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -l ttl -d 'The new TTL [default: the lease\'s current TTL]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -l token -d 'The fencing token printed by acquire' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l ttl -d 'How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole seconds, at least its minimum, usually 2s)' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l holder -d 'Who holds it, as shown by status [default: HOST:PID]' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -s w -l wait -d 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l kill-grace -d 'After a lost lease, how long the command gets between SIGTERM and SIGKILL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l store -d 'Where leases live: `file` (this machine\'s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL' -r -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "acquire" -d 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "renew" -d 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "release" -d 'Release a held lease (exit 6 if TOKEN is not the current token)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show one lease: state, holder, token, age, time left'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "list" -d 'List every known lease'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "run" -d 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command\'s status (128+N if killed by signal N)'
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -l state-dir -d 'voxctl\'s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -f -a "(__fish_complete_directories)"
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "restart" -d 'Swap the running backend for an installed variant, safely'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "fetch" -d 'Download, verify and install a backend variant from a release (parallel, resumable)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "split" -d 'Split a release file into parts under GitHub\'s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "index" -d 'Write the chunk index (S.chunks) of an existing release file, so that `fetch` can update it by downloading only the chunks that changed (`split` writes one itself)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "sign" -d 'Sign files with a minisign secret key: writes FILE.minisig (and Tauri\'s FILE.sig with --tauri-sig), as `minisign -S` does'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "verify" -d 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "status" -d 'Show held slots, leases, installed variants, partial downloads and the running backend'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "doctor" -d 'Check everything the backend needs on this host: GPUs and the variants they can run, installed variants, partial downloads, the running backend, directories, free space'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "stop" -d 'Stop the running backend as restart does: SIGTERM to its process group (identity checked), SIGKILL after --stop-timeout, then wait until its port is released'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "remove" -d 'Uninstall a variant: its binary (or extracted directory), install record and partial download'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "reap" -d 'Clear a wedged previous instance of the app after an update, never a healthy one'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "lease" -d 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart fetch split index sign verify status doctor stop remove reap lease completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from reap" -f -a "mark" -d 'Record the instance about to be replaced (run by the updater just before relaunching)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from lease" -f -a "acquire" -d 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from lease" -f -a "renew" -d 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from lease" -f -a "release" -d 'Release a held lease (exit 6 if TOKEN is not the current token)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from lease" -f -a "status" -d 'Show one lease: state, holder, token, age, time left'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from lease" -f -a "list" -d 'List every known lease'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and __fish_seen_subcommand_from lease" -f -a "run" -d 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command\'s status (128+N if killed by signal N)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand fetch" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand doctor" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand stop" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand remove" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand reap" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from acquire" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from renew" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from release" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from status" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand lease; and __fish_seen_subcommand_from list" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -f
complete -c voxctl -n "__fish_voxctl_using_subcommand remove; and not __fish_seen_subcommand_from cpu cuda rocm" -f -a "cpu cuda rocm"
complete -c voxctl -n "__fish_voxctl_using_subcommand completions; and not __fish_seen_subcommand_from bash elvish fish powershell zsh" -f -a "bash elvish fish powershell zsh"
