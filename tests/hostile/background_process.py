# hostile: starts a detached background process that, after grading, rewrites its own
#   submitted notebook (and tries the gradebook); margin is wrong.
# assignment: 01_perceptron
# zero: test_margin, test_perceptron_bound
# flags: process:
# %% id=margin
import os
import subprocess
import sys

_code = (
    "import time, os\n"
    "time.sleep(4)\n"
    "for p in [{NOTEBOOK!r}, '{OUT}/gradebook.db']:\n"
    "    try:\n"
    "        open(p, 'w').write('rewritten after grading')\n"
    "    except OSError:\n"
    "        pass\n"
)
try:
    subprocess.Popen([sys.executable, "-c", _code], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except OSError:
    pass
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        exec(_code)
        os._exit(0)
    os._exit(0)


def margin(X, y, theta):
    return 0.5
