"""`ba-chat completion bash|zsh|fish`: the shell script, and how ba-chat answers it.

The script runs `ba-chat` with `_BA_CHAT_COMPLETE` set each time Tab is pressed; typer's
completion machinery then answers with commands and options, and the callbacks in
`complete.py` with provider names, model ids and aliases, personas and thread ids.
"""

from __future__ import annotations

import os

import typer

from ba_tui.cli.app import app

COMPLETE_VAR = "_BA_CHAT_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

# Bash splits words at ':' (COMP_WORDBREAKS), so `--compare openai:mi` reaches a
# completer as three words. This script sends the line as typed instead (COMP_LINE up to
# the cursor); the candidates come back cut to the part after the last ':', the part
# bash replaces.
BASH_SCRIPT = """\
_ba_chat_completion() {
    local IFS=$'\\n'
    COMPREPLY=( $( env COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" \\
                   %(complete_var)s=complete_bash "$1" 2>/dev/null ) )
    return 0
}

complete -o default -F _ba_chat_completion ba-chat"""


@app.command()
def completion(
    shell: str = typer.Argument(..., metavar="SHELL", help="bash, zsh or fish."),
) -> None:
    """Print shell completion for bash, zsh or fish.

    The script completes commands, options and names (providers, models, personas, threads).

    Load it from your shell's startup file: `eval "$(ba-chat completion bash)"` in
    ~/.bashrc, the same with zsh in ~/.zshrc, or `ba-chat completion fish | source` in
    ~/.config/fish/config.fish.
    """
    from ba_tui.errors import UsageError

    if shell not in SHELLS:
        raise UsageError(f"no completion for shell {shell!r}", "use bash, zsh or fish")
    if shell == "bash":
        print(BASH_SCRIPT % {"complete_var": COMPLETE_VAR})
        return
    from typer._completion_shared import get_completion_script

    print(get_completion_script(prog_name="ba-chat", complete_var=COMPLETE_VAR, shell=shell))


def prepare() -> None:
    """Register the shells' answer formats before the CLI reads `_BA_CHAT_COMPLETE`
    (typer registers its own only when it adds --install-completion, which ba-chat
    leaves out of --help)."""
    from typer._click.shell_completion import add_completion_class
    from typer._completion_classes import BashComplete, completion_init

    class BashLine(BashComplete):
        """Bash, reading the line as typed (see BASH_SCRIPT)."""

        def get_completion_args(self) -> tuple[list[str], str]:
            from typer._click.shell_completion import split_arg_string

            line = os.environ.get("COMP_LINE")
            if line is None:
                return super().get_completion_args()
            line = line[: int(os.environ.get("COMP_POINT") or len(line))]
            words = split_arg_string(line)
            incomplete = "" if not words or line[-1:].isspace() else words.pop()
            return words[1:], incomplete

        def complete(self) -> str:
            args, incomplete = self.get_completion_args()
            cut = incomplete.rfind(":") + 1
            return "\n".join(item.value[cut:] for item in self.get_completions(args, incomplete))

    completion_init()
    add_completion_class(BashLine, "bash")
