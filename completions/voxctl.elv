
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
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
            cand verify 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
            cand status 'Show held slots, leases, installed variants and the running backend'
            cand reap 'Clear a wedged previous instance of the app after an update, never a healthy one'
            cand lease 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;restart'= {
            cand --variant 'The variant to start'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS]'
            cand --port 'The port the backend serves on (passed as `--port`)'
            cand --health-url 'The health URL to poll (http:// only) [default: http://127.0.0.1:{port}/health]'
            cand --stop-timeout 'How long the old backend gets after SIGTERM before SIGKILL, and then the port to be released (e.g. 10s, 500ms)'
            cand --ready-timeout 'How long the new backend gets to answer 200 on the health URL'
            cand --expect-version 'The version the new binary must report (`BIN --version`) [default: the version recorded when it was fetched]'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --wait 'If another restart of this app is running, wait for it instead of exiting 4'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voxctl;fetch'= {
            cand --variant 'The variant to install'
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS]'
            cand --source 'The release: an http(s):// base URL, a file:// URL or a directory [default: the voicebox GitHub release, latest or --tag]'
            cand --tag 'The release tag: selects the GitHub release when no --source is given; recorded as the installed version'
            cand --jobs 'Parts downloaded at the same time'
            cand --retries 'Retries per request after network errors, 408, 429 and 5xx answers (exponential backoff with jitter; Retry-After is honoured). Per part for the whole run, refilled only by new data, so a part gets at most 17 x N retries'
            cand --retry-delay 'The first retry delay; it doubles each retry, up to 60s'
            cand --connect-timeout 'Time allowed to connect to a server'
            cand --read-timeout 'Longest silence allowed while receiving data (there is no total timeout)'
            cand --wait 'If another fetch of the same asset is running, follow its progress and finish when it does (taking over if it dies) instead of exiting 4. With =DURATION (30s, 5m; a bare number is seconds), exit 4 if it still holds the slot after that long. A holder that shows no progress for 10s is reported once (with `kill -CONT PID` for a stopped one)'
            cand --max-size 'The most an archive release (S.tar.gz) may expand to, uncompressed, such as 40GB or 32GiB; beyond it the archive is refused (exit 3) [default: 20 times the archive''s size, at least 16 MiB]'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --force 'Download and install even if the installed file already matches the release'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voxctl;split'= {
            cand --chunk-size 'Size of each part (the last may be smaller): bytes or a size with units, such as 1900000000, 1.9GB, 1900MB or 1GiB; from 1 byte to under 2 GiB'
            cand --out 'Directory to write the parts and manifests to (created if missing)'
            cand --asset 'The asset name that parts and manifests are named after [default: FILE''s name]'
            cand --app-version 'The app version to record in the JSON manifest'
            cand --variant 'The variant to record in the JSON manifest (cpu, cuda or rocm)'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --force 'Replace existing outputs (and remove parts numbered beyond the new last one)'
            cand --fsync 'fsync every output before it is renamed, so that not even a power loss can leave a manifest naming a part whose data is not on disk (slower: waits for the disk)'
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
        }
        &'voxctl;verify'= {
            cand --sha256 'The expected SHA-256 of FILE (64 hex digits)'
            cand --manifest 'Check a split release: each part, and the whole asset by streaming the parts in order'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand -c 'Read checksums from the FILEs and check the files they list'
            cand --check 'Read checksums from the FILEs and check the files they list'
            cand --ignore-missing 'With -c: skip files that do not exist instead of failing'
            cand --strict 'With -c: a malformed line is a failure, not a warning'
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
        }
        &'voxctl;status'= {
            cand --app 'The app whose backend is managed (names assets `{app}-server-{variant}`)'
            cand --data-dir 'The app''s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS]'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;reap'= {
            cand --lock 'The app''s `SingletonLock` symlink (target `<hostname>-<pid>`)'
            cand --pidfile 'A pidfile naming the app''s pid (instead of --lock)'
            cand --stale-exe 'Reap the processes still running a replaced or deleted copy of the binary at PATH (Linux), instead of a lock holder'
            cand --marker 'The relaunch marker [default: STATE/relaunch-marker.json]'
            cand --max-marker-age 'Ignore a marker older than this [default: 5m]'
            cand --teardown-grace 'How long to wait, sending nothing, for the holder to exit or release the lock'
            cand --term-grace 'How long to wait after SIGTERM before SIGKILL'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand --dry-run 'Show the decision and what would be sent; consume nothing, signal nothing'
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
            cand mark 'Record the instance about to be replaced (run by the updater just before relaunching)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;reap;mark'= {
            cand --pid 'The pid of the instance being replaced [default: voxctl''s parent]'
            cand --marker 'Where to write the marker [default: STATE/relaunch-marker.json]'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
            cand acquire 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
            cand renew 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token)'
            cand release 'Release a held lease (exit 6 if TOKEN is not the current token)'
            cand status 'Show one lease: state, holder, token, age, time left'
            cand list 'List every known lease'
            cand run 'Acquire a lease, run a command while renewing it every TTL/3, release it when the command exits, and exit with the command''s status (128+N if killed by signal N)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;lease;acquire'= {
            cand --ttl 'How long the lease lasts unless renewed (500ms, 30s, 5m)'
            cand --wait 'How long to wait while someone else holds it (0: fail at once with exit 4)'
            cand --holder 'Who holds it, as shown by status [default: HOST:PID]'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;lease;renew'= {
            cand --token 'The fencing token printed by acquire'
            cand --ttl 'The new TTL [default: the lease''s current TTL]'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;lease;release'= {
            cand --token 'The fencing token printed by acquire'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;lease;status'= {
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;lease;list'= {
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;lease;run'= {
            cand --ttl 'How long the lease lasts unless renewed (500ms, 30s, 5m)'
            cand --wait 'How long to wait while someone else holds it (0: fail at once with exit 4)'
            cand --holder 'Who holds it, as shown by status [default: HOST:PID]'
            cand --kill-grace 'After a lost lease, how long the command gets between SIGTERM and SIGKILL'
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
            cand -q 'Print only errors on stderr (no progress, no messages)'
            cand --quiet 'Print only errors on stderr (no progress, no messages)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
            cand --json 'Print one JSON document (or JSON lines for event streams) on stdout'
            cand --yes 'Answer yes to confirmations (needed without a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'voxctl;lease;help'= {
            cand acquire 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
            cand renew 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token)'
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
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;generate'= {
            cand --state-dir 'voxctl''s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]'
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
        }
        &'voxctl;help'= {
            cand restart 'Swap the running backend for an installed variant, safely'
            cand fetch 'Download, verify and install a backend variant from a release (parallel, resumable)'
            cand split 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
            cand verify 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
            cand status 'Show held slots, leases, installed variants and the running backend'
            cand reap 'Clear a wedged previous instance of the app after an update, never a healthy one'
            cand lease 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;help;restart'= {
        }
        &'voxctl;help;fetch'= {
        }
        &'voxctl;help;split'= {
        }
        &'voxctl;help;verify'= {
        }
        &'voxctl;help;status'= {
        }
        &'voxctl;help;reap'= {
            cand mark 'Record the instance about to be replaced (run by the updater just before relaunching)'
        }
        &'voxctl;help;reap;mark'= {
        }
        &'voxctl;help;lease'= {
            cand acquire 'Acquire a lease and print its fencing token (exit 4 if it is still held after --wait)'
            cand renew 'Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token)'
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
        &'voxctl;help;generate'= {
        }
        &'voxctl;help;help'= {
        }
    ]
    $completions[$command]
}
