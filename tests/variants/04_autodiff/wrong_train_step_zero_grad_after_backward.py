# variant: wrong
# what: train_step clears the gradients between loss.backward() and optimizer.step(), so
#   the parameters never move
# assignment: 04_autodiff
# zero: test_train_step
# message: did not move
# %% id=train_step
def train_step(model, optimizer, X, y):
    loss = cross_entropy(model(Tensor(X)), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return float(loss.data)
