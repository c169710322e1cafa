
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
            cand completions 'Print a shell completion script'
            cand generate 'Write the completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
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
