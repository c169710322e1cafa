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
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "restart" -d 'Swap the running backend for an installed variant, safely'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "status" -d 'Show held slots, leases, installed variants and the running backend'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "generate" -d 'Write the completion scripts and man pages into a directory (for packagers)'
complete -c voxctl -n "__fish_voxctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l variant -d 'The variant to start' -r -f -a "auto\t'NVIDIA driver present -> cuda; /dev/kfd present -> rocm; else cpu'
cpu\t'The CPU build'
cuda\t'The NVIDIA CUDA build'
rocm\t'The AMD ROCm build'"
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l port -d 'The port the backend serves on (passed as `--port`)' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l health-url -d 'The health URL to poll (http:// only) [default: http://127.0.0.1:{port}/health]' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l stop-timeout -d 'How long the old backend gets after SIGTERM before SIGKILL, and then the port to be released (e.g. 10s, 500ms)' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l ready-timeout -d 'How long the new backend gets to answer 200 on the health URL' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l expect-version -d 'The version the new binary must report (`BIN --version`) [default: the version recorded when it was fetched]' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l state-dir -d 'voxctl\'s state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl]' -r -F
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l wait -d 'If another restart of this app is running, wait for it instead of exiting 4'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s q -l quiet -d 'Print only errors on stderr (no progress, no messages)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing filter instead'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l json -d 'Print one JSON document (or JSON lines for event streams) on stdout'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c voxctl -n "__fish_voxctl_using_subcommand restart" -s V -l version -d 'Print version'
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l app -d 'The app whose backend is managed (names assets `{app}-server-{variant}`)' -r
complete -c voxctl -n "__fish_voxctl_using_subcommand status" -l data-dir -d 'The app\'s data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or ~/.local/share/{app}]' -r -F
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
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart status completions generate help" -f -a "restart" -d 'Swap the running backend for an installed variant, safely'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart status completions generate help" -f -a "status" -d 'Show held slots, leases, installed variants and the running backend'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart status completions generate help" -f -a "completions" -d 'Print a shell completion script'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart status completions generate help" -f -a "generate" -d 'Write the completion scripts and man pages into a directory (for packagers)'
complete -c voxctl -n "__fish_voxctl_using_subcommand help; and not __fish_seen_subcommand_from restart status completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
