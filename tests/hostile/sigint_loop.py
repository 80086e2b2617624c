# hostile: ignores SIGINT and SIGTERM, then loops (nbgrader cannot interrupt it).
# assignment: 01_perceptron
# zero: test_margin, test_perceptron_bound
# flags: timeout:test_margin
# %% id=margin
def margin(X, y, theta):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    x = 0
    while True:
        try:
            x += 1
        except KeyboardInterrupt:
            pass
