# variant: wrong
# what: two questions answered wrong: one path of x·x only, and the probability 1/C instead
#   of the loss
# assignment: 03_backprop
# zero: test_answer_q3_1, test_answer_q3_4
# message: not the right answer, 答案不正确
# %% id=answer_q3_1
answer_q3_1 = "a"
# %% id=answer_q3_4
answer_q3_4 = 0.1
