"""Every option a help text names exists: walks `fitstore --help` and every subcommand's help,
and checks each `--option` mentioned against the options that command defines; a mention
after `fitstore OTHER` (an example of another command) is checked against OTHER's."""
import re

from conftest import cli

OPTION = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def commands():
    """[(path, help text)] for every command, nested ones included."""
    out, queue = [], [[]]
    while queue:
        path = queue.pop(0)
        text = cli(*path, "--help")
        out.append((tuple(path), text))
        if "SUBCOMMANDS:" in text:
            block = text.split("SUBCOMMANDS:", 1)[1]
            for line in block.splitlines():
                m = re.match(r"^  ([a-z][a-z0-9-]*)(\s|$)", line)
                if m and m.group(1) != "help":
                    queue.append(path + [m.group(1)])
    return out


def defined(text):
    """The options a help text's OPTIONS section lists (long names)."""
    names = set()
    section = text.split("OPTIONS:", 1)[1] if "OPTIONS:" in text else ""
    for line in section.splitlines():
        m = re.match(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", line)
        if m:
            names.add(m.group(1))
        m = re.match(r"^\s+--\[no-\]([a-z][a-z0-9-]*)", line)
        if m:
            names.update({m.group(1), "no-" + m.group(1)})
    return names | {"help", "version"}


def test_every_option_a_help_text_names_exists():
    helps = commands()
    assert len(helps) > 20
    problems = problems_in(helps)
    assert not problems, "\n".join(problems)


def problems_in(helps):
    """Each line of a help's prose naming an option that neither its command nor a command it
    names (on that line or the one before) defines."""
    options = {path: defined(text) for path, text in helps}
    every = set().union(*options.values())
    words = {path[-1]: path for path in options if len(path) == 1}
    nested = {path for path in options if len(path) == 2}
    problems = []
    for path, text in helps:
        body = text.split("USAGE:", 1)[0]  # the overview and discussion, where the prose is
        lines = body.splitlines()
        for i, line in enumerate(lines):
            mentions = [o.group(1) for o in OPTION.finditer(line)]
            if not mentions:
                continue
            if not path:  # the root's overview speaks of every command
                allowed = every
            else:
                # The command itself, and any command named on this line or the one before
                # ("`predict --checkpoint N`", "fitstore encoders add ... --encoder").
                allowed = set(options[path])
                context = (lines[i - 1] if i else "") + " " + line
                tokens = re.findall(r"(?<![\w-])[a-z][a-z0-9-]*", context)
                for first, second in zip(tokens, tokens[1:] + [""]):
                    if (first, second) in nested:
                        allowed |= options[(first, second)]
                    if first in words:
                        allowed |= options[words[first]]
            for name in mentions:
                if name not in allowed:
                    problems.append(f"fitstore {' '.join(path)} --help: --{name} is not an option of this command or of one it names: {line.strip()}")
    return problems


def test_the_walk_would_see_a_wrong_option():
    """The check itself, on help texts made up for it: the tune text that named --seed when the
    option was --search-seed is caught; naming another command's option beside it is not."""
    tune = "OVERVIEW: Tune.\n\n  drawn from a generator seeded with --seed\n\nUSAGE: fitstore tune\n\nOPTIONS:\n  --search-seed <n>  Seed.\n"
    train = "OVERVIEW: Train.\n\nUSAGE: fitstore train\n\nOPTIONS:\n  --seed <n>  Seed.\n  -h, --help  Help.\n"
    root = "OVERVIEW: x\n\nUSAGE: fitstore\n\nSUBCOMMANDS:\n  tune  T\n  train  T\n"
    found = problems_in([((), root), (("tune",), tune), (("train",), train)])
    assert len(found) == 1 and "--seed" in found[0] and "fitstore tune" in found[0]
    fixed = tune.replace("seeded with --seed", "seeded with --search-seed, as `train --seed` seeds folds")
    assert problems_in([((), root), (("tune",), fixed), (("train",), train)]) == []
