# variant: wrong
# what: in the small graph, y keeps only the gradient from the add gate: the copy (y feeds
#   both the add and the max) is not summed
# assignment: 03_backprop
# zero: test_gate_graph
# message: used twice, 两条路径梯度之和
# %% id=gate_graph
def graph_forward(x, y, z):
    q = x + y
    m = np.maximum(y, z)
    return q * m, (x, y, z, q, m)


def graph_backward(dout, cache):
    x, y, z, q, m = cache
    dq, dm = mul_backward(dout, q, m)
    dx, dy = add_backward(dq, x, y)
    _, dz = max_backward(dm, y, z)
    return dx, dy, dz
