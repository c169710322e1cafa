
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
            cand status 'Show held slots, leases, installed variants and the running backend'
            cand lease 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
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
            cand status 'Show held slots, leases, installed variants and the running backend'
            cand lease 'Hold TTL leases with fencing tokens: serialize shell scripts across invocations'
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'voxctl;help;status'= {
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
