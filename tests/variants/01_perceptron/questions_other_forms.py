# variant: correct
# what: the questions answered in other accepted forms: an upper-case letter with spaces, the
#   bound computed from R and gamma, a letter in brackets
# assignment: 01_perceptron
# %% id=answer_q1_1
answer_q1_1 = " B "
# %% id=answer_q1_2
answer_q1_2 = (2 / 0.1) ** 2
# %% id=answer_q1_3
answer_q1_3 = "(b)"
