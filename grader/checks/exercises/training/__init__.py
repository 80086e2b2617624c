"""Assignment 05 · 训练: mini-batches, update rules, schedules, initialisation, dropout,
early stopping, the MLP's loss, the training loop and the digits capstone.

Every check call runs its calls on the student's code as one batch of steps
(:mod:`grader.checks.steps`): in the grade of record one message to the sandbox. A rule
replayed for many steps, an iterator run for several epochs on one generator, early
stopping fed epoch after epoch while the check changes the parameters in place: each
is a chain of steps whose next input is what the student's previous call returned, in
the student's own process. The modules:

* :mod:`.batches` — 5.1 mini-batch iterator, 5.6 initialisation, 5.7 dropout;
* :mod:`.optimisers` — 5.2–5.4 update rules next to ``torch.optim``, 5.5 schedules;
* :mod:`.stopping` — 5.8 early stopping, 5.9 the MLP's loss with dropout;
* :mod:`.capstone` — 5.10 the training loop, 5.11 the held-out capstone;
* :mod:`.recap` — 5.0 the student's Assignment 3 layers checked again, and the questions.

NumPy answers used as references live in :mod:`grader.checks.references.training`.
"""

from __future__ import annotations

from grader.checks.exercises.training import messages  # noqa: F401  (registers the catalogue)
from grader.checks.exercises.training.batches import (
    DataIterExercise,
    DropoutExercise,
    InitExercise,
)
from grader.checks.exercises.training.capstone import CapstoneExercise, TrainMlpExercise
from grader.checks.exercises.training.common import ASSIGNMENT, digits_split
from grader.checks.exercises.training.optimisers import LrDecayExercise, UpdateRuleExercise
from grader.checks.exercises.training.recap import Assignment3Layers
from grader.checks.exercises.training.stopping import EarlyStoppingExercise, MlpLossExercise

__all__ = [
    "ASSIGNMENT", "digits_split", "DataIterExercise", "DropoutExercise", "InitExercise",
    "UpdateRuleExercise", "LrDecayExercise", "EarlyStoppingExercise", "MlpLossExercise",
    "TrainMlpExercise", "CapstoneExercise", "Assignment3Layers",
]
