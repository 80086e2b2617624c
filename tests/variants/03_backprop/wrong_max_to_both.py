# variant: wrong
# what: the max gate passes dout to both inputs; the small graph, which calls it, inherits
#   the mistake
# assignment: 03_backprop
# zero: test_gate_rules, test_gate_graph
# message: routes all of dout, 取胜
# %% id=gate_rules
def add_backward(dout, x, y):
    return dout.copy(), dout.copy()


def mul_backward(dout, x, y):
    return dout * y, dout * x


def max_backward(dout, x, y):
    return dout.copy(), dout.copy()


def copy_backward(dout_a, dout_b):
    return dout_a + dout_b
