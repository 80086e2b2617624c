"""Several nbgrader commands in one process · 在一个进程里运行多条 nbgrader 命令.

``python -m nbgrader <command>`` spends about three seconds importing nbgrader and Jupyter
before it does anything: building six assignments paid that six times, and autograding the
sample class (generate, autograde and feedback for each assignment) nineteen times. This
module runs a list of nbgrader command lines in one interpreter, the way nbgrader's own test
suite does (``NbGraderApp.instance()``, ``initialize``, ``start``, ``reset``): the same
applications, reading the same ``nbgrader_config.py`` from the working folder.

    python -m grader.course.nbgrader_steps < steps.json   # a JSON list of argument lists

The commands run in order; the first that fails stops the rest (exit status 1, the command
named on stderr). Input that is not such a list, or a step that does not start with one of
nbgrader's commands, runs nothing (exit status 2). Caller: grader.course.build.run_nbgrader_steps.
"""

from __future__ import annotations

import json
import sys


def run(steps: list[list[str]]) -> int:
    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

    # nbgrader answers an unknown subcommand with its help and exit 0: a mistyped step would
    # pass; every step must be a list of strings that starts with one of nbgrader's commands
    wrong = [args for args in (steps if isinstance(steps, list) else [steps])
             if not (isinstance(args, list) and args and all(isinstance(a, str) for a in args)
                     and args[0] in NbGraderApp.subcommands)]
    if wrong or not steps:
        print(f"nbgrader_steps: expected a non-empty JSON list of nbgrader command lines, "
              f"each starting with a command; not {json.dumps(wrong[:1] or steps)[:200]}",
              file=sys.stderr)
        return 2
    for args in steps:
        app = NbGraderApp.instance()
        try:
            app.initialize(args)
            app.start()
            status = 0
        except NoStart:  # how a Jupyter application says its subcommand finished
            status = 0
        except SystemExit as stop:  # nbgrader ends a failed command with sys.exit
            status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        finally:
            app.reset()  # the next command starts from a fresh application and its config
        if status:
            print(f"nbgrader {' '.join(args)}: exit {status}", file=sys.stderr)
            return 1
    return 0


def main() -> int:
    try:
        steps = json.load(sys.stdin)
    except ValueError as exc:
        print(f"nbgrader_steps: the input is not JSON ({exc})", file=sys.stderr)
        return 2
    return run(steps)


if __name__ == "__main__":
    sys.exit(main())
