# hostile: ends the process while its cells load; nothing can be graded.
# assignment: 01_perceptron
# zero: all
# flags: crashed:loading
# status: crashed
# %% id=xor_predict
import os

os._exit(3)
