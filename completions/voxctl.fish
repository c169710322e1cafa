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

complete -c voxctl -n "__fish_voxctl_needs_command" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_needs_command" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_needs_command" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_needs_command" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_needs_command" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_needs_command" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "split" -d 'Split a release file into parts under GitHub\'s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "verify" -d 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "status" -d 'Show held slots, leases, installed variants and the running backend'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "generate" -d 'Write the completion scripts and man pages into a directory (for packagers)'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l chunk-size -d 'Size of each part (the last may be smaller): bytes or a size with units, such as 1900000000, 1.9GB, 1900MB or 1GiB; from 1 byte to under 2 GiB' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l out -d 'Directory to write the parts and manifests to (created if missing)' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l asset -d 'The asset name that parts and manifests are named after [default: FILE\'s name]' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l app-version -d 'The app version to record in the JSON manifest' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l variant -d 'The variant to record in the JSON manifest (cpu, cuda or rocm)' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l force -d 'Replace existing outputs (and remove parts numbered beyond the new last one)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l fsync -d 'fsync every output before it is renamed, so that not even a power loss can leave a manifest naming a part whose data is not on disk (slower: waits for the disk)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand split" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l sha256 -d 'The expected SHA-256 of FILE (64 hex digits)' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l manifest -d 'Check a split release: each part, and the whole asset by streaming the parts in order' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s c -l check -d 'Read checksums from the FILEs and check the files they list'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l ignore-missing -d 'With -c: skip files that do not exist instead of failing'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l strict -d 'With -c: a malformed line is a failure, not a warning'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand verify" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -s h -l help -d 'Print help'
complete -c voxctl -n "__fish_voxctl_using_subcommand generate" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from split verify status completions generate help" -f -a "split" -d 'Split a release file into parts under GitHub\'s 2 GiB asset limit, with SHA-256 files and manifests (the parts are what `split -b N -d -a 2` writes)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from split verify status completions generate help" -f -a "verify" -d 'Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a split release from its manifest'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from split verify status completions generate help" -f -a "status" -d 'Show held slots, leases, installed variants and the running backend'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from split verify status completions generate help" -f -a "completions" -d 'Print a shell completion script'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from split verify status completions generate help" -f -a "generate" -d 'Write the completion scripts and man pages into a directory (for packagers)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from split verify status completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
