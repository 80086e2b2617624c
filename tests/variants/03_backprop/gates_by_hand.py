# variant: correct
# what: the gate rules with np.where, np.multiply, np.add and np.copy; the small graph's
#   backward written out by hand instead of calling the gate rules
# assignment: 03_backprop
# %% id=gate_rules
def add_backward(dout, x, y):
    return np.copy(dout), np.copy(dout)


def mul_backward(dout, x, y):
    return np.multiply(dout, y), np.multiply(x, dout)


def max_backward(dout, x, y):
    return np.where(x > y, dout, 0.0), np.where(x > y, 0.0, dout)


def copy_backward(dout_a, dout_b):
    return np.add(dout_a, dout_b)
# %% id=gate_graph
def graph_forward(x, y, z):
    q = x + y
    m = np.where(y > z, y, z)
    return q * m, {"q": q, "m": m, "y_wins": y > z}


def graph_backward(dout, cache):
    q, m, y_wins = cache["q"], cache["m"], cache["y_wins"]
    dq = dout * m
    dm = dout * q
    dy = dq + np.where(y_wins, dm, 0)
    dz = np.where(y_wins, 0, dm)
    return dq, dy, dz
