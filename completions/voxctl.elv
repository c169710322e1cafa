
use builtin;
use str;

set edit:completion:arg-completer[voxctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'voxctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'voxctl'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand restart 'Swap the running backend for an installed variant, safely'
            cand fetch 'Download, verify and install a backend variant from a release (parallel, resumable)'
            cand split 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
            cand index 'Write the chunk index (S.chunks) of an existing release file, so that `fetch` can update it by downloading only the chunks that changed (`split` writes one itself)'
            cand sign 'Sign files with a minisign secret key: writes FILE.minisig (and Tauri''s FILE.sig with --tauri-sig), as `minisign -S` does'
            cand verify 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
            cand status 'Show held slots, leases, installed variants, partial downloads and the running backend'
            cand doctor 'Check everything the backend needs on this host: GPUs and the variants they can run, installed variants, partial downloads, the running backend, directories, free space'
            cand stop 'Stop the running backend as restart does: SIGTERM to its process group (identity checked), SIGKILL after --stop-timeout, then wait until its port is released'
            cand remove 'Uninstall a variant: its binary (or extracted directory), install record and partial download'
            cand reap 'Clear a wedged previous instance of the app after an update, never a healthy one'
            cand lease 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;restart'= {
            cand --variant 'The variant to start (`auto` falls back to cpu when the detected one is unusable)'
            cand --fallback 'Start this variant instead when the requested one is missing or fails its version check (only `cpu` makes sense; `--variant auto` implies `--fallback cpu`)'
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]'
            cand --health-url 'The health URL to poll (http:// only) [default: the running backend''s while the port stays the same, else http://127.0.0.1:{port}/health]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --port 'The port the backend serves on (passed as `--port`; 1-65535) [default: the running backend''s, else 17493]'
            cand --stop-timeout 'How long the old backend gets after SIGTERM before SIGKILL, and then the port to be released (e.g. 10s, 500ms; more than 0)'
            cand --ready-timeout 'How long the new backend gets to answer 200 on the health URL (more than 0; a rollback to the previous backend gets at least 120s, and at least twice its recorded start-up time)'
            cand --expect-version 'The version the new binary must report (`BIN --version`) [default: the version recorded when it was fetched]'
            cand -w 'If another restart or stop of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --wait 'If another restart or stop of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --reset-config 'Do not keep the running backend''s port, health URL and extra arguments: start from the defaults (what this command line gives still applies)'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;fetch'= {
            cand --variant 'The variant to install'
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]'
            cand --source 'The release: an http(s):// base URL, a file:// URL or a directory [default: the voicebox GitHub release, latest or --tag]'
            cand --mirror 'A mirror of the release (http(s)://, file:// or a directory), asked for the asset''s bytes before --source, in the order given; repeatable [env: VOXCTL_MIRRORS, space separated]. Manifests, checksums and signatures still come from --source, and every byte from a mirror is checked against them: one serving a wrong byte is named and skipped for the rest of the run, one that fails hands over to the next source'
            cand --pubkey-file 'Trust the key in this minisign .pub file (repeatable)'
            cand --tauri-conf 'Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or tauri.updater.pubkey (v1)'
            cand --seed 'A local file to take unchanged chunks from when the release has a chunk index (S.chunks), besides the installed asset of the variant, which is always tried (an older build kept elsewhere, a copy on another disk). Repeatable. Every chunk taken is hashed, and the whole file''s SHA-256 decides before install'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --tag 'The release tag: selects the GitHub release when no --source is given; recorded as the installed version unless the release''s signed manifest states one'
            cand --jobs 'Parts downloaded at the same time (1-64)'
            cand --retries 'Retries per request after network errors, 408, 429 and 5xx answers (exponential backoff with jitter; Retry-After is honoured up to 60s). Per part and source for the whole run, refilled only by new data, so a part gets at most 17 x N retries'
            cand --retry-delay 'The first retry delay; it doubles each retry, up to 60s (0: retry at once)'
            cand --connect-timeout 'Time allowed to connect to a server (more than 0)'
            cand --read-timeout 'Longest silence allowed while receiving data (more than 0; no setting without a limit: a silent server would hang the fetch forever); a body must also average 1 KiB/s over each such window'
            cand --pubkey 'Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or Tauri''s base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of every source (also the VOXCTL_PUBKEY env var) are trusted together'
            cand --detect-timeout 'How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0)'
            cand --max-size 'The most an archive release (S.tar.gz) may expand to, uncompressed, such as 40GB or 32GiB; beyond it the archive is refused (exit 3) [default: 20 times the archive''s size, at least 16 MiB]'
            cand -w 'If another fetch of the same asset holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --wait 'If another fetch of the same asset holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --force 'Download and install even if the installed file already matches the release (the compatibility check still runs)'
            cand --allow-downgrade 'Install a signed release even when its version is older than the installed one (otherwise refused, exit 5). Only a signed manifest''s app_version counts, never --tag'
            cand --repair 'Bring a damaged install back to its recorded build, from the release it came from (the install record''s source; --source is not used): files are checked first, and nothing is downloaded when all are intact; an archive install gets only its broken files replaced'
            cand --skip-compat-check 'Download even if the release states hardware requirements (CUDA archs, driver, ROCm targets) that no GPU here meets'
            cand --no-delta 'Download the whole asset even when the release has a chunk index and local files hold some of its chunks'
            cand --dry-run 'Print what would be downloaded and what reused (reading the installed asset and the seeds), then stop: nothing is downloaded or written'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;split'= {
            cand --out 'Directory to write the parts and manifests to (created if missing)'
            cand --variant 'The variant to record in the JSON manifest'
            cand --sign 'Sign S.manifest.json and S.sha256 with this minisign secret key (minisign''s file or Tauri''s base64 of it), writing S.manifest.json.minisig and S.sha256.minisig. The password comes from VOXCTL_SIGN_PASSWORD or a prompt on a terminal'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --part-size 'Size of each part (the last may be smaller), spelled as for GNU `split -b`, which cuts the same parts: digits are bytes; K, M, G (or KiB, MiB, GiB) are powers of 1024; KB, MB, GB powers of 1000; b is 512; whole numbers only (1900MB, not 1.9GB). From 1 byte to under 2 GiB. Recorded as `chunk_size` in the JSON manifest. Alias: --chunk-size'
            cand --chunk-size 'Size of each part (the last may be smaller), spelled as for GNU `split -b`, which cuts the same parts: digits are bytes; K, M, G (or KiB, MiB, GiB) are powers of 1024; KB, MB, GB powers of 1000; b is 512; whole numbers only (1900MB, not 1.9GB). From 1 byte to under 2 GiB. Recorded as `chunk_size` in the JSON manifest. Alias: --chunk-size'
            cand --asset 'The asset name that parts and manifests are named after [default: FILE''s name]'
            cand --app-version 'The app version to record in the JSON manifest'
            cand --cuda-arch-list 'The CUDA architectures the build has code for, in TORCH_CUDA_ARCH_LIST syntax (e.g. "8.0;8.6;8.9;9.0;12.0+PTX"); `fetch` refuses a GPU this list cannot run on'
            cand --min-driver 'The oldest NVIDIA driver the build runs on (e.g. 525.60.13)'
            cand --rocm-gfx 'The ROCm gfx targets the build has code for (e.g. "gfx1030;gfx1100")'
            cand --force 'Replace existing outputs (and remove parts numbered beyond the new last one)'
            cand --no-index 'Write no chunk index (S.chunks; `fetch` then downloads updates whole). An existing S.chunks still counts as an output: refused without --force, removed with it, so no index describes another build'
            cand --fsync 'fsync every output before it is renamed, so that not even a power loss can leave a manifest naming a part whose data is not on disk (slower: waits for the disk)'
            cand --tauri-sig 'With --sign: also write Tauri''s form of each signature (X.sig, base64)'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;index'= {
            cand --out 'Directory to write S.chunks to (created if missing) [default: FILE''s directory]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --asset 'The asset name that names the index [default: FILE''s name]'
            cand --avg-size 'The average chunk size: a power of two from 256 bytes to 4 MiB, spelled as for --part-size (16K, 64KiB); chunks are at least a quarter and at most four times it [default: 16K, what split uses]'
            cand --force 'Replace an existing S.chunks'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;sign'= {
            cand -s 'The minisign secret key (as `minisign -G` or `tauri signer generate` writes it)'
            cand --key 'The minisign secret key (as `minisign -G` or `tauri signer generate` writes it)'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --tauri-sig 'Also write Tauri''s form of each signature (FILE.sig: base64 of FILE.minisig)'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;verify'= {
            cand --manifest 'Check a split release: each part, and the whole asset by streaming the parts in order'
            cand --pubkey-file 'Trust the key in this minisign .pub file (repeatable)'
            cand --tauri-conf 'Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or tauri.updater.pubkey (v1)'
            cand --installed 'Check installed variants (all, or VARIANT: cpu, cuda, rocm) against their install records, re-hashing every file (each file of an archive install)'
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --sha256 'The expected SHA-256 of FILE (64 hex digits; anything else is a usage error, exit 2)'
            cand --pubkey 'Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or Tauri''s base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of every source (also the VOXCTL_PUBKEY env var) are trusted together'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand -c 'Read checksums from the FILEs (or stdin) and check the files they list'
            cand --check 'Read checksums from the FILEs (or stdin) and check the files they list'
            cand --relative-to-sums 'With -c: resolve relative names against each sums file''s directory (stdin: the current directory) instead of the current directory, e.g. a downloaded S.sha256 beside the asset it names: `verify -c --relative-to-sums dl/S.sha256`. split''s --out dir holds only the parts: check those with --manifest'
            cand --ignore-missing 'With -c: skip files that do not exist instead of failing (a sums file with no file verified still fails)'
            cand --strict 'With -c: a malformed line is a failure, not a warning'
            cand --status 'With -c: print no result lines and no summary, as `sha256sum -c --status`; the exit status says it all (files that cannot be read are still named on stderr)'
            cand -w 'With -c: name each improperly formatted line on stderr, as `sha256sum -c -w`'
            cand --warn 'With -c: name each improperly formatted line on stderr, as `sha256sum -c -w`'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;status'= {
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;doctor'= {
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --detect-timeout 'How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0)'
            cand --deep 'Re-hash every installed file instead of comparing sizes with the install record'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;stop'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --app 'The app whose backend is stopped'
            cand --stop-timeout 'How long the backend gets after SIGTERM before SIGKILL, and then its port to be released (more than 0)'
            cand -w 'If a restart of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --wait 'If a restart of this app holds the slot, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;remove'= {
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS; %LOCALAPPDATA%\\{app} on Windows]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --stop-timeout 'With --force: how long the backend gets after SIGTERM before SIGKILL (more than 0)'
            cand -w 'If a fetch of the variant is running, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --wait 'If a fetch of the variant is running, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --force 'If the backend runs this variant, stop it first (as `voxctl stop`) instead of exiting 5'
            cand --partial-only 'Remove only the variant''s partial download, keeping what is installed'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;reap'= {
            cand --lock 'The app''s `SingletonLock` symlink (target `<hostname>-<pid>`); on Windows the profile''s `lockfile` (held open without sharing by the running app)'
            cand --pidfile 'A pidfile naming the app''s pid (instead of --lock)'
            cand --stale-exe 'Reap the processes still running a replaced or deleted copy of the binary at PATH (Linux), instead of a lock holder'
            cand --marker 'The relaunch marker [default: STATE/relaunch-marker.json]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --max-marker-age 'Ignore a marker older than this (more than 0) [default: 5m]'
            cand --teardown-grace 'How long to wait, sending nothing, for the holder to exit or release the lock (0: send SIGTERM at once)'
            cand --term-grace 'How long to wait after SIGTERM before SIGKILL (0: SIGKILL at once)'
            cand --dry-run 'Show the decision and what would be sent; consume nothing, signal nothing'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand mark 'Record the instance about to be replaced (run by the updater just before relaunching)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;reap;mark'= {
            cand --marker 'Where to write the marker [default: STATE/relaunch-marker.json]'
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --pid 'The pid of the instance being replaced [default: voxctl''s parent]'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;reap;help'= {
            cand mark 'Record the instance about to be replaced (run by the updater just before relaunching)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;reap;help;mark'= {
        }
        &'voxctl;reap;help;help'= {
        }
        &'voxctl;lease'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand acquire 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
            cand renew 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)'
            cand release 'Release a held lease (exit 6 if TOKEN is not the current token)'
            cand status 'Show one lease: state, holder, token, age, time left'
            cand list 'List every known lease'
            cand run 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;lease;acquire'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --ttl 'How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole seconds, at least its minimum, usually 2s)'
            cand --holder 'Who holds it, as shown by status [default: HOST:PID]'
            cand -w 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --wait 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --owner-pid 'The process that owns the lease: when that exact process (pid, start time, pid namespace, boot) is gone on this host, the lease is abandoned and can be taken over at once, before its TTL runs out. Without it only the TTL counts'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;lease;renew'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --token 'The fencing token printed by acquire'
            cand --ttl 'The new TTL [default: the lease''s current TTL]'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;lease;release'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --token 'The fencing token printed by acquire'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;lease;status'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;lease;list'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;lease;run'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --ttl 'How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole seconds, at least its minimum, usually 2s)'
            cand --holder 'Who holds it, as shown by status [default: HOST:PID]'
            cand -w 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --wait 'If someone else holds the lease, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once.'
            cand --kill-grace 'After a lost lease, how long the command gets between SIGTERM and SIGKILL'
            cand --store 'Where leases live: `file` (this machine''s state dir) or `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT, VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'voxctl;lease;help'= {
            cand acquire 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
            cand renew 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)'
            cand release 'Release a held lease (exit 6 if TOKEN is not the current token)'
            cand status 'Show one lease: state, holder, token, age, time left'
            cand list 'List every known lease'
            cand run 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;lease;help;acquire'= {
        }
        &'voxctl;lease;help;renew'= {
        }
        &'voxctl;lease;help;release'= {
        }
        &'voxctl;lease;help;status'= {
        }
        &'voxctl;lease;help;list'= {
        }
        &'voxctl;lease;help;run'= {
        }
        &'voxctl;lease;help;help'= {
        }
        &'voxctl;completions'= {
            cand --state-dir 'voxctl''s state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'voxctl;help'= {
            cand restart 'Swap the running backend for an installed variant, safely'
            cand fetch 'Download, verify and install a backend variant from a release (parallel, resumable)'
            cand split 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
            cand index 'Write the chunk index (S.chunks) of an existing release file, so that `fetch` can update it by downloading only the chunks that changed (`split` writes one itself)'
            cand sign 'Sign files with a minisign secret key: writes FILE.minisig (and Tauri''s FILE.sig with --tauri-sig), as `minisign -S` does'
            cand verify 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
            cand status 'Show held slots, leases, installed variants, partial downloads and the running backend'
            cand doctor 'Check everything the backend needs on this host: GPUs and the variants they can run, installed variants, partial downloads, the running backend, directories, free space'
            cand stop 'Stop the running backend as restart does: SIGTERM to its process group (identity checked), SIGKILL after --stop-timeout, then wait until its port is released'
            cand remove 'Uninstall a variant: its binary (or extracted directory), install record and partial download'
            cand reap 'Clear a wedged previous instance of the app after an update, never a healthy one'
            cand lease 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;help;restart'= {
        }
        &'voxctl;help;fetch'= {
        }
        &'voxctl;help;split'= {
        }
        &'voxctl;help;index'= {
        }
        &'voxctl;help;sign'= {
        }
        &'voxctl;help;verify'= {
        }
        &'voxctl;help;status'= {
        }
        &'voxctl;help;doctor'= {
        }
        &'voxctl;help;stop'= {
        }
        &'voxctl;help;remove'= {
        }
        &'voxctl;help;reap'= {
            cand mark 'Record the instance about to be replaced (run by the updater just before relaunching)'
        }
        &'voxctl;help;reap;mark'= {
        }
        &'voxctl;help;lease'= {
            cand acquire 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
            cand renew 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or on etcd if the lease expired)'
            cand release 'Release a held lease (exit 6 if TOKEN is not the current token)'
            cand status 'Show one lease: state, holder, token, age, time left'
            cand list 'List every known lease'
            cand run 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)'
        }
        &'voxctl;help;lease;acquire'= {
        }
        &'voxctl;help;lease;renew'= {
        }
        &'voxctl;help;lease;release'= {
        }
        &'voxctl;help;lease;status'= {
        }
        &'voxctl;help;lease;list'= {
        }
        &'voxctl;help;lease;run'= {
        }
        &'voxctl;help;completions'= {
        }
        &'voxctl;help;help'= {
        }
    ]
    $completions[$command]
}
