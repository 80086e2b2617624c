# variant: wrong
# what: SGD copies the learning rate in __init__ into a private field and keeps using it,
#   so a schedule that changes opt.lr has no effect
# assignment: 04_autodiff
# zero: test_sgd, test_train_step
# %% id=sgd
class SGD:
    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr
        self._step_size = lr

    def step(self):
        for p in self.params:
            if p.grad is not None:
                p.data -= self._step_size * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = None
