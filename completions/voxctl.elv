
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
            cand split 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
            cand verify 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
            cand status 'Show held slots, leases, installed variants and the running backend'
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
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
            cand split 'Split a release file into parts under GitHub''s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
            cand verify 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
            cand status 'Show held slots, leases, installed variants and the running backend'
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;help;split'= {
        }
        &'voxctl;help;verify'= {
        }
        &'voxctl;help;status'= {
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
