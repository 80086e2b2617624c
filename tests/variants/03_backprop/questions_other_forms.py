# variant: correct
# what: the questions answered in other accepted forms: an upper-case letter, the shape as a
#   string, the Jacobian as a matrix, ln 10 computed with NumPy
# assignment: 03_backprop
# %% id=answer_q3_1
answer_q3_1 = "B"
# %% id=answer_q3_2
answer_q3_2 = "4096 x 100352"
# %% id=answer_q3_3
answer_q3_3 = " b "
# %% id=answer_q3_4
answer_q3_4 = np.log(10)
