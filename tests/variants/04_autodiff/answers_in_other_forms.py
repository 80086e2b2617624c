# variant: correct
# what: the questions answered as a float, a capital letter with spaces, a string number
# assignment: 04_autodiff
# %% id=answer_q4_1
answer_q4_1 = 7.0
# %% id=answer_q4_2
answer_q4_2 = " A "
# %% id=answer_q4_3
answer_q4_3 = "B"
# %% id=answer_q4_4
answer_q4_4 = "2"
