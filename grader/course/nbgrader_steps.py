"""Several nbgrader commands in one process · 在一个进程里运行多条 nbgrader 命令.

``python -m nbgrader <command>`` spends about three seconds importing nbgrader and Jupyter
before it does anything: building six assignments paid that six times, and autograding the
sample class (generate, autograde and feedback for each assignment) nineteen times. This
module runs a list of nbgrader command lines in one interpreter, the way nbgrader's own test
suite does (``NbGraderApp.instance()``, ``initialize``, ``start``, ``reset``): the same
applications, reading the same ``nbgrader_config.py`` from the working folder.

    python -m grader.course.nbgrader_steps < steps.json   # a JSON list of argument lists

The commands run in order; the first that fails stops the rest (exit status 1, the command
named on stderr). :func:`grader.course.build.run_nbgrader_steps` is the caller.
"""

from __future__ import annotations

import json
import sys


def run(steps: list[list[str]]) -> int:
    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

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


if __name__ == "__main__":
    sys.exit(run(json.load(sys.stdin)))
