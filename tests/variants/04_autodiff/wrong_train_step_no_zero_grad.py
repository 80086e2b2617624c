# variant: wrong
# what: train_step never clears the gradients: every step adds its gradient to the earlier
#   ones
# assignment: 04_autodiff
# zero: test_train_step
# message: never called
# %% id=train_step
def train_step(model, optimizer, X, y):
    loss = cross_entropy(model(Tensor(X)), y)
    loss.backward()
    optimizer.step()
    return float(loss.data)
